// DescribeLogDirs (key 35): v0-4 (v2+ flexible). Each broker describes its own log directories (admin clients ask
// every broker).
// Behaviour:
// * One result per configured log directory (log.dirs), ErrorCode NONE; the local replicas of data partitions are
//   listed under the directory holding them (the cluster metadata log is not a partition replica and is not listed).
// * Topics null → every local replica; otherwise only the named topics' named partitions that are local (unknown
//   names are simply absent, as in Kafka).
// * Per partition: PartitionSize = bytes of its segments, OffsetLag 0 (no future replicas: log directories are
//   never moved), IsFutureKey false. Topics sorted by name, partitions by index.
// * v3+: top-level ErrorCode NONE. v4+: TotalBytes / UsableBytes of the directory's file system (statvfs through
//   DriveInfo; -1 when it cannot be read).
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.LogAdmin;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class DescribeLogDirsHandler : KafkaHandler<DescribeLogDirsRequest>
{
    private readonly PartitionManager _partitions;
    private readonly IReadOnlyList<string> _logDirs;

    /// <param name="logDirs">log.dirs, the first one holding the partitions (absolute or relative paths).</param>
    public DescribeLogDirsHandler(PartitionManager partitions, IReadOnlyList<string> logDirs)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentNullException.ThrowIfNull(logDirs);
        if (logDirs.Count == 0) throw new ArgumentException("at least one log directory is needed", nameof(logDirs));
        _partitions = partitions;
        _logDirs = logDirs;
    }

    public override ApiKey Key => ApiKey.DescribeLogDirs;
    public override short MinVersion => 0;
    public override short MaxVersion => 4;

    protected override DescribeLogDirsRequest Parse(ref KafkaReader reader, short version) => DescribeLogDirsRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, DescribeLogDirsRequest request)
    {
        var response = new DescribeLogDirsResponse { Results = LogDirDescriber.Describe(_logDirs, _partitions.Partitions, request.Topics) };
        return new(response);
    }
}
