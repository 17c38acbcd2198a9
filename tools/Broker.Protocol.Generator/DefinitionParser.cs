namespace Broker.Protocol.Generator;

/// <summary>Parses the compact message definition format described in README.md.</summary>
public static class DefinitionParser
{
    public static readonly HashSet<string> Primitives = new()
    {
        "bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64", "uuid", "string", "bytes", "records",
    };

    public static List<MessageDef> Parse(string text, string fileName)
    {
        var messages = new List<MessageDef>();
        MessageDef? current = null;
        // stack[level] = struct receiving fields at indentation level+1
        var stack = new List<StructDef>();
        StructDef? pendingStruct = null; // struct declared on the previous field line, awaiting its body
        int pendingLevel = -1;
        var known = new Dictionary<string, StructDef>();
        string[] lines = text.Replace("\r", "").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string where = $"{fileName}:{i + 1}";
            string raw = lines[i];
            int hash = raw.IndexOf('#');
            if (hash >= 0) raw = raw[..hash];
            if (raw.Trim().Length == 0) continue;
            int spaces = raw.Length - raw.TrimStart(' ').Length;
            if (raw.TrimStart(' ').StartsWith('\t')) throw new DefinitionException($"{where}: tabs are not allowed");
            if (spaces % 2 != 0) throw new DefinitionException($"{where}: indentation must be a multiple of two spaces");
            int level = spaces / 2;
            string[] parts = raw.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (level == 0)
            {
                CheckPendingBody(pendingStruct, pendingLevel, level, where);
                pendingStruct = null;
                current = ParseHeader(parts, where, fileName);
                messages.Add(current);
                stack.Clear();
                stack.Add(current.Root);
                known.Clear();
                continue;
            }
            if (current is null) throw new DefinitionException($"{where}: field outside a message");
            if (pendingStruct is not null)
            {
                if (level == pendingLevel + 1)
                {
                    while (stack.Count > level) stack.RemoveAt(stack.Count - 1);
                    stack.Add(pendingStruct);
                }
                else CheckPendingBody(pendingStruct, pendingLevel, level, where);
                pendingStruct = null;
            }
            if (level > stack.Count) throw new DefinitionException($"{where}: unexpected indentation");
            while (stack.Count > level) stack.RemoveAt(stack.Count - 1);
            var field = ParseField(parts, where);
            stack[^1].Fields.Add(field);
            if (!Primitives.Contains(field.ElementType))
            {
                if (known.TryGetValue(field.ElementType, out var existing)) field.Struct = existing;
                else
                {
                    var s = new StructDef(field.ElementType);
                    known[s.Name] = s;
                    current.NestedStructs.Add(s);
                    field.Struct = s;
                    pendingStruct = s;
                    pendingLevel = level;
                }
            }
        }
        CheckPendingBody(pendingStruct, pendingLevel, 0, $"{fileName}:end");
        return messages;
    }

    private static void CheckPendingBody(StructDef? pending, int pendingLevel, int level, string where)
    {
        if (pending is not null && level <= pendingLevel && pending.Fields.Count == 0)
            throw new DefinitionException($"{where}: struct {pending.Name} has no fields");
    }

    private static MessageDef ParseHeader(string[] parts, string where, string fileName)
    {
        if (parts.Length < 2) throw new DefinitionException($"{where}: expected '<kind> <Name> ...'");
        var kind = parts[0] switch
        {
            "request" => MessageKind.Request,
            "response" => MessageKind.Response,
            "data" => MessageKind.Data,
            _ => throw new DefinitionException($"{where}: unknown message kind '{parts[0]}'"),
        };
        short key = -1;
        VersionRange? versions = null, flexible = null;
        for (int i = 2; i < parts.Length; i++)
        {
            var (k, v) = SplitAttribute(parts[i], where);
            switch (k)
            {
                case "key": key = short.Parse(v); break;
                case "versions": versions = VersionRange.Parse(v, where); break;
                case "flexible": flexible = VersionRange.Parse(v, where); break;
                default: throw new DefinitionException($"{where}: unknown message attribute '{k}'");
            }
        }
        if (versions is null || flexible is null) throw new DefinitionException($"{where}: versions= and flexible= are required");
        if (kind != MessageKind.Data && key < 0) throw new DefinitionException($"{where}: key= is required for {parts[0]}");
        return new MessageDef(kind, parts[1], key, versions.Value, flexible.Value, fileName);
    }

    private static FieldDef ParseField(string[] parts, string where)
    {
        if (parts.Length < 3) throw new DefinitionException($"{where}: expected '<Name> <type> <versions> [attrs]'");
        string type = parts[1];
        bool isArray = type.StartsWith("[]");
        if (isArray) type = type[2..];
        if (type.Length == 0 || !char.IsLetter(type[0])) throw new DefinitionException($"{where}: bad type '{parts[1]}'");
        VersionRange nullable = VersionRange.None;
        string? def = null;
        int? tag = null;
        for (int i = 3; i < parts.Length; i++)
        {
            var (k, v) = SplitAttribute(parts[i], where);
            switch (k)
            {
                case "nullable": nullable = VersionRange.Parse(v, where); break;
                case "default": def = v; break;
                case "tag": tag = int.Parse(v); break;
                default: throw new DefinitionException($"{where}: unknown field attribute '{k}'");
            }
        }
        return new FieldDef
        {
            Name = parts[0], ElementType = type, IsArray = isArray,
            Versions = VersionRange.Parse(parts[2], where), Nullable = nullable, Default = def, Tag = tag,
        };
    }

    private static (string, string) SplitAttribute(string part, string where)
    {
        int eq = part.IndexOf('=');
        if (eq <= 0) throw new DefinitionException($"{where}: expected key=value, got '{part}'");
        return (part[..eq], part[(eq + 1)..]);
    }
}
