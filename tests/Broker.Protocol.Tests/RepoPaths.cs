using System.Runtime.CompilerServices;

namespace Broker.Protocol.Tests;

internal static class RepoPaths
{
    /// <summary>The repository root, found from this source file's compile-time path.</summary>
    public static string Root { get; } = Path.GetFullPath(Path.Combine(Here(), "..", ".."));

    private static string Here([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
