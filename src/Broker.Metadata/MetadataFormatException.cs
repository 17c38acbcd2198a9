namespace Broker.Metadata;

/// <summary>
/// The metadata log holds bytes this node cannot interpret: a corrupt batch, an unsupported frame version, a
/// truncated record body. Replay stops at the offending offset rather than building a wrong image.
/// </summary>
public sealed class MetadataFormatException : Exception
{
    public MetadataFormatException(string message) : base(message) { }
    public MetadataFormatException(string message, Exception inner) : base(message, inner) { }
}
