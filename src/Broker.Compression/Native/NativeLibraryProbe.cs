using System.Runtime.InteropServices;

namespace Broker.Compression.Native;

/// <summary>
/// Checks once, on first use, that a codec's system library loads and exports the functions we call, so a missing
/// library surfaces as a <see cref="CompressionException"/> naming the Debian package instead of a
/// DllNotFoundException from the middle of a P/Invoke. Nothing is loaded at start-up.
/// </summary>
internal sealed class NativeLibraryProbe(string soname, string debianPackage, string codecName, params string[] exports)
{
    private readonly object _gate = new();
    private volatile bool _checked;
    private string? _error;

    public string SoName => soname;

    /// <summary>Null when the library is usable, else why not.</summary>
    public string? Error
    {
        get
        {
            if (!_checked)
            {
                lock (_gate)
                {
                    if (!_checked)
                    {
                        _error = Check();
                        _checked = true;
                    }
                }
            }
            return _error;
        }
    }

    /// <summary>Throws <see cref="CompressionException"/> when the library is missing or incomplete.</summary>
    public void Ensure()
    {
        string? error = Error;
        if (error is not null) throw new CompressionException(error);
    }

    private string? Check()
    {
        if (!NativeLibrary.TryLoad(soname, out nint handle))
            return $"{codecName} compression needs the system library {soname}, which could not be loaded: install the Debian package {debianPackage}";
        // The handle stays loaded for the life of the process: the LibraryImport stubs resolve the same soname.
        foreach (string export in exports)
        {
            if (!NativeLibrary.TryGetExport(handle, export, out _))
                return $"{codecName} compression: {soname} does not export {export}; install a current {debianPackage}";
        }
        return null;
    }
}
