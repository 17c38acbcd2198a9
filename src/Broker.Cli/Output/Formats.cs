using System.Globalization;
using System.Text;
using Broker.Core.Model;

namespace Broker.Cli.Output;

/// <summary>Small text formats shared by the commands: Kafka error names, id lists, sizes, rates.</summary>
internal static class Formats
{
    /// <summary>Kafka's name of an error code: <c>TopicAlreadyExists</c> → <c>TOPIC_ALREADY_EXISTS</c>.</summary>
    public static string ErrorName(ErrorCode code)
    {
        string name = code.ToString();
        if (name.Length == 0 || name[0] == '-' || char.IsDigit(name[0])) return $"ERROR_{(short)code}";
        var sb = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0) sb.Append('_');
            sb.Append(char.ToUpperInvariant(c));
        }
        return sb.ToString();
    }

    /// <summary>
    /// "error: NAME: message" text for a Kafka error; when the broker sent no message a short generic description
    /// of the code is used (or <paramref name="fallback"/> when given).
    /// </summary>
    public static string ErrorLine(ErrorCode code, string? message, string? fallback = null)
    {
        string text = !string.IsNullOrWhiteSpace(message) ? message! : fallback ?? DefaultMessage(code);
        return text.Length == 0 ? $"error: {ErrorName(code)}" : $"error: {ErrorName(code)}: {text}";
    }

    /// <summary>A short description of the common error codes (our words), "" for the others.</summary>
    public static string DefaultMessage(ErrorCode code) => code switch
    {
        ErrorCode.UnknownServerError => "The server experienced an unexpected error.",
        ErrorCode.UnknownTopicOrPartition => "The topic or partition does not exist.",
        ErrorCode.LeaderNotAvailable => "The partition has no leader right now.",
        ErrorCode.NotLeaderOrFollower => "The broker is not the leader of the partition.",
        ErrorCode.RequestTimedOut => "The request timed out.",
        ErrorCode.NetworkException => "The broker could not be reached.",
        ErrorCode.CoordinatorNotAvailable => "The group coordinator is not available.",
        ErrorCode.NotCoordinator => "The broker is not the group's coordinator.",
        ErrorCode.InvalidTopicException => "The topic name is not valid.",
        ErrorCode.MessageTooLarge => "The record batch is larger than the broker accepts.",
        ErrorCode.NotEnoughReplicas => "Fewer in-sync replicas than min.insync.replicas.",
        ErrorCode.TopicAlreadyExists => "The topic already exists.",
        ErrorCode.InvalidPartitions => "The number of partitions is not valid.",
        ErrorCode.InvalidReplicationFactor => "The replication factor is not valid.",
        ErrorCode.InvalidConfig => "The configuration is not valid.",
        ErrorCode.InvalidRequest => "The request is not valid.",
        ErrorCode.PolicyViolation => "The request violates a broker policy.",
        ErrorCode.NonEmptyGroup => "The group still has active members.",
        ErrorCode.GroupIdNotFound => "The group does not exist.",
        ErrorCode.TopicDeletionDisabled => "Topic deletion is disabled on the broker.",
        ErrorCode.UnsupportedVersion => "The broker does not support this request version.",
        ErrorCode.UnsupportedCompressionType => "The broker does not support this compression type.",
        ErrorCode.OffsetOutOfRange => "The requested offset is outside the partition's range.",
        ErrorCode.ClusterAuthorizationFailed or ErrorCode.TopicAuthorizationFailed or ErrorCode.GroupAuthorizationFailed
            => "Not authorized.",
        _ => "",
    };

    /// <summary>"[1,2,3]".</summary>
    public static string IdList(IReadOnlyList<int> ids)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < ids.Count; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(ids[i].ToString(CultureInfo.InvariantCulture));
        }
        return sb.Append(']').ToString();
    }

    /// <summary>"[a b c]" (strings, e.g. partitions of the health overview).</summary>
    public static string WordList(IReadOnlyList<string> items) => "[" + string.Join(' ', items) + "]";

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Megabytes (10^6 bytes) with two decimals: "1.25".</summary>
    public static string Megabytes(long bytes) => (bytes / 1_000_000.0).ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>Seconds with two decimals: "0.53".</summary>
    public static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>A per-second rate with no decimals ("1886"), 0 when no time has passed.</summary>
    public static string Rate(double amount, TimeSpan t) =>
        (t.TotalSeconds <= 0 ? 0 : amount / t.TotalSeconds).ToString("0", CultureInfo.InvariantCulture);

    /// <summary>A per-second rate in MB (two decimals).</summary>
    public static string MbRate(long bytes, TimeSpan t) =>
        (t.TotalSeconds <= 0 ? 0 : bytes / 1_000_000.0 / t.TotalSeconds).ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>Unix milliseconds as ISO-8601 UTC with milliseconds, "-" for negative values.</summary>
    public static string Timestamp(long unixMs) =>
        unixMs < 0 ? "-" : DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
