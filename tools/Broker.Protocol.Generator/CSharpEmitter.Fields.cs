using System.Text;

namespace Broker.Protocol.Generator;

/// <summary>Per-field pieces of the emitter: C# types, initialisers, read and write statements.</summary>
public static partial class CSharpEmitter
{
    private static bool IsNullable(FieldDef f) =>
        !f.Nullable.IsNone || f.Default == "null" || f.ElementType == "records" ||
        (f.IsStruct && !f.IsArray && f.Tag is not null);

    private static string ElementClrType(FieldDef f) => f.ElementType switch
    {
        "bool" => "bool",
        "int8" => "sbyte",
        "int16" => "short",
        "uint16" => "ushort",
        "int32" => "int",
        "uint32" => "uint",
        "int64" => "long",
        "float64" => "double",
        "uuid" => "Guid",
        "string" => "string",
        "bytes" => "byte[]",
        "records" => "ReadOnlyMemory<byte>",
        _ => f.ElementType,
    };

    private static string Qualified(MessageDef m, FieldDef f) => $"{m.Name}.{f.ElementType}";

    private static string PropertyType(FieldDef f)
    {
        string q = IsNullable(f) ? "?" : "";
        if (f.IsArray) return $"List<{ElementClrType(f)}>{q}";
        return ElementClrType(f) + q;
    }

    private static string Initializer(FieldDef f)
    {
        if (f.IsArray) return f.Default == "null" ? "" : " = new();";
        if (f.IsStruct) return IsNullable(f) ? "" : " = new();";
        switch (f.ElementType)
        {
            case "string": return f.Default is null ? " = \"\";" : f.Default == "null" ? "" : $" = {f.Default};";
            case "bytes": return IsNullable(f) ? "" : " = System.Array.Empty<byte>();";
            case "records":
            case "uuid": return "";
            default: return f.Default is null ? "" : $" = {f.Default};";
        }
    }

    private static string NonDefault(FieldDef f)
    {
        if (f.IsArray) return $"{f.Name} is {{ Count: > 0 }}";
        if (f.IsStruct || f.ElementType == "records") return $"{f.Name} is not null";
        return f.ElementType switch
        {
            "string" => f.Default is null ? $"!string.IsNullOrEmpty({f.Name})" : f.Default == "null" ? $"{f.Name} is not null" : $"{f.Name} != {f.Default}",
            "bytes" => $"{f.Name} is {{ Length: > 0 }}",
            "uuid" => $"{f.Name} != Guid.Empty",
            "bool" => $"{f.Name} != {f.Default ?? "false"}",
            _ => $"{f.Name} != {f.Default ?? "0"}",
        };
    }

    private static string ReadPrimitive(string type, bool nullable) => type switch
    {
        "bool" => "reader.ReadBool()",
        "int8" => "reader.ReadInt8()",
        "int16" => "reader.ReadInt16()",
        "uint16" => "reader.ReadUInt16()",
        "int32" => "reader.ReadInt32()",
        "uint32" => "reader.ReadUInt32()",
        "int64" => "reader.ReadInt64()",
        "float64" => "reader.ReadFloat64()",
        "uuid" => "reader.ReadUuid()",
        "string" => nullable ? "reader.ReadNullableString(flexible)" : "reader.ReadString(flexible)",
        "bytes" => nullable ? "reader.ReadNullableBytes(flexible)" : "reader.ReadBytes(flexible)",
        "records" => "reader.ReadRecords(flexible)",
        _ => throw new DefinitionException($"unknown type {type}"),
    };

    private static string WritePrimitive(string type, string value, bool nullable, string w) => type switch
    {
        "bool" => $"{w}.WriteBool({value});",
        "int8" => $"{w}.WriteInt8({value});",
        "int16" => $"{w}.WriteInt16({value});",
        "uint16" => $"{w}.WriteUInt16({value});",
        "int32" => $"{w}.WriteInt32({value});",
        "uint32" => $"{w}.WriteUInt32({value});",
        "int64" => $"{w}.WriteInt64({value});",
        "float64" => $"{w}.WriteFloat64({value});",
        "uuid" => $"{w}.WriteUuid({value});",
        "string" => $"{w}.WriteString({value}, flexible);",
        "bytes" => nullable ? $"{w}.WriteNullableBytes({value}, flexible);" : $"{w}.WriteBytes({value}, flexible);",
        "records" => $"{w}.WriteRecords({value}, flexible);",
        _ => throw new DefinitionException($"unknown type {type}"),
    };

    private static void EmitRead(StringBuilder sb, MessageDef m, FieldDef f, string ind, string cond, string target)
    {
        string nullCond = Condition(f.Nullable.Intersect(f.Versions), m.Versions);
        bool everNull = !f.Nullable.Intersect(f.Versions).IsNone;
        if (f.IsArray)
        {
            string elem = f.IsStruct ? $"{Qualified(m, f)}.Read(ref reader, version)" : ReadPrimitive(f.ElementType, false);
            string open = cond == "true" ? "{" : $"if ({cond})\n{ind}{{";
            sb.Append(ind).Append(open).Append('\n');
            sb.Append(ind).Append("    int n = reader.ReadArrayLength(flexible);\n");
            sb.Append(ind).Append("    if (n < 0) ").Append(target).Append(IsNullable(f) ? " = null;\n" : " = new();\n");
            sb.Append(ind).Append("    else\n").Append(ind).Append("    {\n");
            sb.Append(ind).Append("        var list = new List<").Append(ElementClrType(f)).Append(">(n);\n");
            sb.Append(ind).Append("        for (int i = 0; i < n; i++) list.Add(").Append(elem).Append(");\n");
            sb.Append(ind).Append("        ").Append(target).Append(" = list;\n");
            sb.Append(ind).Append("    }\n").Append(ind).Append("}\n");
            return;
        }
        string expr;
        if (f.IsStruct)
        {
            string read = $"{Qualified(m, f)}.Read(ref reader, version)";
            expr = f.Tag is null && everNull
                ? (nullCond == "true"
                    ? $"reader.ReadStructPresent() ? {read} : null"
                    : $"({nullCond}) ? (reader.ReadStructPresent() ? {read} : null) : {read}")
                : read;
        }
        else expr = ReadPrimitive(f.ElementType, IsNullable(f));
        sb.Append(ind);
        if (cond != "true") sb.Append("if (").Append(cond).Append(") ");
        sb.Append(target).Append(" = ").Append(expr).Append(";\n");
    }

    private static void EmitWrite(StringBuilder sb, MessageDef m, FieldDef f, string ind, string cond, string name, string w = "writer")
    {
        string nullCond = Condition(f.Nullable.Intersect(f.Versions), m.Versions);
        bool everNull = !f.Nullable.Intersect(f.Versions).IsNone;
        string open = cond == "true" ? "{" : $"if ({cond})\n{ind}{{";
        if (f.IsArray)
        {
            string elem = f.IsStruct ? $"{name}[i].Write(ref {w}, version);" : WritePrimitive(f.ElementType, $"{name}[i]", false, w);
            string nullLen = !everNull ? "0" : nullCond == "true" ? "-1" : $"({nullCond}) ? -1 : 0";
            sb.Append(ind).Append(open).Append('\n');
            if (IsNullable(f))
                sb.Append(ind).Append("    if (").Append(name).Append(" is null) ").Append(w).Append(".WriteArrayLength(").Append(nullLen).Append(", flexible);\n")
                  .Append(ind).Append("    else\n");
            sb.Append(ind).Append("    {\n");
            sb.Append(ind).Append("        ").Append(w).Append(".WriteArrayLength(").Append(name).Append(".Count, flexible);\n");
            sb.Append(ind).Append("        for (int i = 0; i < ").Append(name).Append(".Count; i++) ").Append(elem).Append('\n');
            sb.Append(ind).Append("    }\n").Append(ind).Append("}\n");
            return;
        }
        if (f.IsStruct)
        {
            if (f.Tag is not null)
            {
                sb.Append(ind).Append(name).Append("!.Write(ref ").Append(w).Append(", version);\n");
                return;
            }
            if (!IsNullable(f))
            {
                sb.Append(ind);
                if (cond != "true") sb.Append("if (").Append(cond).Append(") ");
                sb.Append(name).Append(".Write(ref ").Append(w).Append(", version);\n");
                return;
            }
            sb.Append(ind).Append(open).Append('\n');
            if (everNull)
            {
                sb.Append(ind).Append("    if (").Append(nullCond).Append(")\n").Append(ind).Append("    {\n");
                sb.Append(ind).Append("        ").Append(w).Append(".WriteStructPresent(").Append(name).Append(" is not null);\n");
                sb.Append(ind).Append("        ").Append(name).Append("?.Write(ref ").Append(w).Append(", version);\n");
                sb.Append(ind).Append("    }\n").Append(ind).Append("    else ");
            }
            else sb.Append(ind).Append("    ");
            sb.Append('(').Append(name).Append(" ?? new ").Append(Qualified(m, f)).Append("()).Write(ref ").Append(w).Append(", version);\n");
            sb.Append(ind).Append("}\n");
            return;
        }
        sb.Append(ind);
        if (cond != "true") sb.Append("if (").Append(cond).Append(") ");
        sb.Append(WritePrimitive(f.ElementType, name, IsNullable(f), w)).Append('\n');
    }
}
