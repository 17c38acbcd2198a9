namespace Broker.Storage;

/// <summary>Names of the log cleaner's temporary files for a segment (".tmp": removed when a log is opened).</summary>
internal sealed partial class Segment
{
    /// <summary>Suffix of the cleaner's temporary copy of a segment's log.</summary>
    public const string CleanedSuffix = ".log.cleaned.tmp";

    /// <summary>Suffix of the cleaner's temporary offset index for that copy.</summary>
    public const string CleanedIndexSuffix = ".index.cleaned.tmp";

    /// <summary>Path of the temporary cleaned copy of this segment.</summary>
    public string CleanedPath => Path.ChangeExtension(LogPath, null) + CleanedSuffix;

    /// <summary>Path of the temporary offset index of the cleaned copy.</summary>
    public string CleanedIndexPath => Path.ChangeExtension(LogPath, null) + CleanedIndexSuffix;
}
