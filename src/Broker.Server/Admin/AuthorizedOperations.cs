namespace Broker.Server.Admin;

/// <summary>
/// Authorized-operation bitsets (bit n = AclOperation code n). There is no authorizer, so, like Kafka without
/// one, a client that asks is told it may do every operation Kafka defines for the resource type.
/// </summary>
public static class AuthorizedOperations
{
    /// <summary>The schema default: the client did not ask.</summary>
    public const int NotRequested = int.MinValue;

    // AclOperation codes: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
    // DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
    /// <summary>READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (= 3576).</summary>
    public const int AllTopicOperations = 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 8 | 1 << 10 | 1 << 11;

    /// <summary>CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE (= 8096).</summary>
    public const int AllClusterOperations = 1 << 5 | 1 << 7 | 1 << 8 | 1 << 9 | 1 << 10 | 1 << 11 | 1 << 12;

    public static int Topic(bool requested) => requested ? AllTopicOperations : NotRequested;

    public static int Cluster(bool requested) => requested ? AllClusterOperations : NotRequested;
}
