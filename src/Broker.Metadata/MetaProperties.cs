using System.Globalization;
using System.Text;
using Broker.Storage;

namespace Broker.Metadata;

/// <summary>
/// The identity file of a metadata directory, <c>meta.properties</c> (Kafka's format): version=1,
/// cluster.id, node.id. Written once when the directory is first used (write-then-rename); on later starts a
/// different node.id or cluster.id is refused with <see cref="InvalidDataException"/>.
/// </summary>
public sealed record MetaProperties(int Version, string ClusterId, int NodeId)
{
    public const string FileName = "meta.properties";

    /// <summary>
    /// Loads <c>meta.properties</c> from <paramref name="directory"/> and checks it against this node, or creates it
    /// (with <paramref name="clusterId"/>, or a new random id) when it does not exist.
    /// </summary>
    public static MetaProperties LoadOrCreate(string directory, int nodeId, string? clusterId = null)
    {
        var existing = TryRead(directory);
        if (existing is not null)
        {
            if (existing.NodeId != nodeId)
                throw new InvalidDataException(
                    $"{Path.Combine(directory, FileName)} has node.id={existing.NodeId} but this node is configured with node.id={nodeId}");
            if (clusterId is not null && existing.ClusterId != clusterId)
                throw new InvalidDataException(
                    $"{Path.Combine(directory, FileName)} has cluster.id={existing.ClusterId} but the configuration asks for cluster.id={clusterId}");
            return existing;
        }
        var created = new MetaProperties(1, clusterId ?? NewClusterId(), nodeId);
        created.Write(directory);
        return created;
    }

    /// <summary>Reads the file; null when it does not exist. Malformed content throws <see cref="InvalidDataException"/>.</summary>
    public static MetaProperties? TryRead(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or '!') continue;
            int eq = line.IndexOf('=');
            if (eq <= 0) throw new InvalidDataException($"{path}: malformed line '{raw}'");
            values[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }
        int version = ReadInt(values, "version", path);
        if (version is not (0 or 1)) throw new InvalidDataException($"{path}: unsupported version {version}");
        if (!values.TryGetValue("cluster.id", out var clusterId) || clusterId.Length == 0)
            throw new InvalidDataException($"{path}: cluster.id is missing");
        int nodeId = values.ContainsKey("node.id") ? ReadInt(values, "node.id", path)
            : values.ContainsKey("broker.id") ? ReadInt(values, "broker.id", path)
            : throw new InvalidDataException($"{path}: node.id is missing");
        return new MetaProperties(version, clusterId, nodeId);
    }

    /// <summary>Writes the file atomically: a temporary file, flushed to disk, renamed over the target, directory fsynced.</summary>
    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, FileName);
        var text = new StringBuilder()
            .Append("#\n#").Append(DateTime.UtcNow.ToString("R", CultureInfo.InvariantCulture)).Append('\n')
            .Append("version=").Append(Version.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append("cluster.id=").Append(ClusterId).Append('\n')
            .Append("node.id=").Append(NodeId.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .ToString();
        DurableFile.WriteAtomic(path, Encoding.UTF8.GetBytes(text));
    }

    /// <summary>A new cluster id: 16 random bytes as 22 base64url characters, like Kafka's Uuid.randomUuid().</summary>
    public static string NewClusterId() => TopicIds.ToKafkaString(TopicIds.NewRandomId());

    private static int ReadInt(Dictionary<string, string> values, string key, string path)
    {
        if (!values.TryGetValue(key, out var text)) throw new InvalidDataException($"{path}: {key} is missing");
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value : throw new InvalidDataException($"{path}: {key}='{text}' is not an integer");
    }
}
