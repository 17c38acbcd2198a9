using Broker.Core.Diagnostics;

namespace Broker.Storage;

/// <summary>Opening a sealed segment whose log file the cleaner has just replaced (its indexes are rebuilt).</summary>
internal sealed partial class Segment
{
    /// <summary>Suffix of the cleaner's temporary copy of a segment (".tmp": removed when a log is opened).</summary>
    public const string CleanedSuffix = ".log.cleaned.tmp";

    /// <summary>
    /// Opens the sealed segment at <paramref name="baseOffset"/> by scanning its log (CRCs checked) and writing
    /// fresh index files, ignoring whatever index files exist. Used right after a compacted file was swapped in.
    /// </summary>
    public static Segment OpenRewritten(string directory, long baseOffset, int indexInterval, Logger logger)
    {
        var segment = new Segment(directory, baseOffset,
            new OffsetIndex(IndexFile<OffsetEntry>.CreateEmpty(PathFor(directory, baseOffset, IndexSuffix)), baseOffset),
            new TimeIndex(IndexFile<TimeEntry>.CreateEmpty(PathFor(directory, baseOffset, TimeIndexSuffix)), baseOffset));
        try
        {
            long length = new FileInfo(segment.LogPath).Length;
            if (length > int.MaxValue) throw new IOException($"{segment.LogPath}: segment larger than 2 GiB");
            segment.RecoverByScan((int)length, indexInterval, logger, sealAfter: true);
            return segment;
        }
        catch
        {
            segment.Dispose();
            throw;
        }
    }

    /// <summary>Path of the temporary cleaned copy of this segment.</summary>
    public string CleanedPath => Path.ChangeExtension(LogPath, null) + CleanedSuffix;
}
