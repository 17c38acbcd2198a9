using System.Text;
using Broker.Protocol.Generator;

// Usage: Broker.Protocol.Generator <definitions dir> <output dir>
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Broker.Protocol.Generator <definitions dir> <output dir>");
    return 2;
}
try
{
    var files = Generator.GenerateAll(args[0]);
    Directory.CreateDirectory(args[1]);
    foreach (var old in Directory.GetFiles(args[1], "*.g.cs"))
        if (!files.ContainsKey(Path.GetFileName(old))) File.Delete(old);
    foreach (var (name, text) in files)
    {
        string path = Path.Combine(args[1], name);
        if (!File.Exists(path) || File.ReadAllText(path) != text) File.WriteAllText(path, text, new UTF8Encoding(false));
    }
    Console.WriteLine($"generated {files.Count} files into {args[1]}");
    return 0;
}
catch (DefinitionException ex)
{
    Console.Error.WriteLine("error: " + ex.Message);
    return 1;
}
