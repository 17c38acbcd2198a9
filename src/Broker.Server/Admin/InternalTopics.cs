namespace Broker.Server.Admin;

/// <summary>Names of Kafka's internal topics (reported with IsInternal = true when they exist).</summary>
public static class InternalTopics
{
    public const string ConsumerOffsets = "__consumer_offsets";
    public const string TransactionState = "__transaction_state";

    public static bool IsInternal(string? name) => name is ConsumerOffsets or TransactionState;
}
