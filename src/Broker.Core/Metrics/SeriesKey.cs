namespace Broker.Core.Metrics;

/// <summary>
/// The tags of one measurement as a dictionary key, without allocating for up to four tags (the hot path's case):
/// names compare ordinally, values with <see cref="object.Equals(object, object)"/>, in the order given (the same
/// labels in another order make a second series, merged again when rendered). More than four tags are copied
/// into an array (one allocation per measurement).
/// </summary>
internal readonly struct SeriesKey : IEquatable<SeriesKey>
{
    private const int Inline = 4;

    private readonly KeyValuePair<string, object?> _t0, _t1, _t2, _t3;
    private readonly KeyValuePair<string, object?>[]? _all;
    private readonly int _count;
    private readonly int _hash;

    public SeriesKey(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        _count = tags.Length;
        _t0 = _t1 = _t2 = _t3 = default;
        _all = null;
        if (tags.Length > Inline)
        {
            _all = tags.ToArray();
        }
        else
        {
            if (tags.Length > 0) _t0 = tags[0];
            if (tags.Length > 1) _t1 = tags[1];
            if (tags.Length > 2) _t2 = tags[2];
            if (tags.Length > 3) _t3 = tags[3];
        }
        // Values only: names are nearly always the same literals, and Equals compares them anyway.
        int hash = tags.Length;
        foreach (var tag in tags) hash = HashCode.Combine(hash, tag.Value?.GetHashCode() ?? 0);
        _hash = hash;
    }

    public int Count => _count;

    public KeyValuePair<string, object?> this[int index] => _all is not null ? _all[index] : index switch
    {
        0 => _t0,
        1 => _t1,
        2 => _t2,
        3 => _t3,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public bool Equals(SeriesKey other)
    {
        if (_hash != other._hash || _count != other._count) return false;
        for (int i = 0; i < _count; i++)
        {
            var a = this[i];
            var b = other[i];
            if (!string.Equals(a.Key, b.Key, StringComparison.Ordinal) || !Equals(a.Value, b.Value)) return false;
        }
        return true;
    }

    public override bool Equals(object? obj) => obj is SeriesKey other && Equals(other);

    public override int GetHashCode() => _hash;
}
