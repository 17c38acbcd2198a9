namespace Broker.Metadata.Controller;

/// <summary>Kafka's topic name rules: 1..249 characters of [a-zA-Z0-9._-], not "." or "..".</summary>
public static class TopicNames
{
    public const int MaxLength = 249;

    /// <summary>Returns null when <paramref name="name"/> is legal, else why not.</summary>
    public static string? Validate(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "Topic name is illegal, it can't be empty";
        if (name is "." or "..") return "Topic name cannot be \".\" or \"..\"";
        if (name.Length > MaxLength)
            return $"Topic name is illegal, it can't be longer than {MaxLength} characters, topic name: {name}";
        foreach (char c in name)
        {
            bool legal = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-';
            if (!legal)
                return $"Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'";
        }
        return null;
    }

    /// <summary>
    /// Metric names replace '.' with '_', so Kafka refuses topics that differ only in those two characters.
    /// </summary>
    public static string CollisionKey(string name) => name.Replace('.', '_');

    /// <summary>Names the controller refuses to create (the metadata log's own partition).</summary>
    public static bool IsReserved(string name) => name == Records.MetadataConstants.MetadataTopic;
}
