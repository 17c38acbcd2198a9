namespace Broker.Protocol.Generator;

/// <summary>An inclusive version range; <see cref="None"/> is empty.</summary>
public readonly record struct VersionRange(short Min, short Max)
{
    public static readonly VersionRange None = new(1, 0);
    public bool IsNone => Min > Max;
    public bool Covers(VersionRange other) => !IsNone && Min <= other.Min && Max >= other.Max;
    public VersionRange Intersect(VersionRange other)
    {
        var r = new VersionRange(Math.Max(Min, other.Min), Math.Min(Max, other.Max));
        return r.Min <= r.Max ? r : None;
    }

    public static VersionRange Parse(string text, string where)
    {
        if (text == "none") return None;
        if (text.EndsWith('+')) return new(ParseShort(text[..^1], where), short.MaxValue);
        int dash = text.IndexOf('-');
        if (dash > 0) return new(ParseShort(text[..dash], where), ParseShort(text[(dash + 1)..], where));
        short v = ParseShort(text, where);
        return new(v, v);
    }

    private static short ParseShort(string s, string where) =>
        short.TryParse(s, out short v) && v >= 0 ? v : throw new DefinitionException($"{where}: bad version '{s}'");
}

public enum MessageKind { Request, Response, Data }

public sealed class MessageDef(MessageKind kind, string name, short apiKey, VersionRange versions, VersionRange flexible, string source)
{
    public MessageKind Kind { get; } = kind;
    public string Name { get; } = name;
    public short ApiKey { get; } = apiKey;
    public VersionRange Versions { get; } = versions;
    public VersionRange Flexible { get; } = flexible;
    public string Source { get; } = source;
    public StructDef Root { get; } = new(name);
    /// <summary>Nested structs in definition order (flattened; names are unique within a message).</summary>
    public List<StructDef> NestedStructs { get; } = new();
}

public sealed class StructDef(string name)
{
    public string Name { get; } = name;
    public List<FieldDef> Fields { get; } = new();
}

public sealed class FieldDef
{
    public required string Name { get; init; }
    /// <summary>Primitive type name, or the struct name for struct fields.</summary>
    public required string ElementType { get; init; }
    public required bool IsArray { get; init; }
    public StructDef? Struct { get; set; }
    public required VersionRange Versions { get; init; }
    public VersionRange Nullable { get; init; } = VersionRange.None;
    public string? Default { get; init; }
    public int? Tag { get; init; }
    public bool IsStruct => Struct is not null;
}

public sealed class DefinitionException(string message) : Exception(message);
