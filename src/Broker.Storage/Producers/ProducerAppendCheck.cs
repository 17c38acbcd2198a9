using Broker.Core.Model;

namespace Broker.Storage.Producers;

/// <summary>
/// Verdict of the idempotence check on batches a leader is about to append: accept them, answer with the offsets of
/// the identical batch already in the log (<see cref="IsDuplicate"/>, nothing is appended), or refuse them with
/// INVALID_PRODUCER_EPOCH / OUT_OF_ORDER_SEQUENCE_NUMBER and a reason. Allocates only for a refusal's message.
/// </summary>
public readonly struct ProducerAppendCheck
{
    private ProducerAppendCheck(ErrorCode error, bool duplicate, in ProducerBatch original, string? message)
    {
        Error = error;
        IsDuplicate = duplicate;
        Original = original;
        Message = message;
    }

    public static ProducerAppendCheck Accepted => default;

    public ErrorCode Error { get; }
    public bool IsDuplicate { get; }
    /// <summary>For a duplicate: the batch already in the log (its offsets and stored max timestamp).</summary>
    public ProducerBatch Original { get; }
    public string? Message { get; }
    public bool IsAccepted => Error == ErrorCode.None && !IsDuplicate;

    public static ProducerAppendCheck Duplicate(in ProducerBatch original) => new(ErrorCode.None, true, original, null);

    public static ProducerAppendCheck Refused(ErrorCode error, string message) => new(error, false, default, message);

    public override string ToString() =>
        IsDuplicate ? $"duplicate of [{Original.FirstOffset}, {Original.LastOffset}]"
            : Error == ErrorCode.None ? "accepted" : $"{Error}: {Message}";
}
