using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Broker.Http.Admin;

/// <summary>
/// The JSON of /v1/cluster_config. GET writes a flat object of typed values (Redpanda tools read numbers and
/// booleans as such): values that read as an integer, a plain decimal or true/false in their canonical form become
/// JSON numbers/booleans, null stays null, everything else is a string. PUT reads
/// <c>{"upsert": {"key": value, ...}, "remove": ["key", ...]}</c>: strings as given, numbers as written, booleans as
/// true/false, arrays of scalars comma-joined, null as a removal.
/// </summary>
public static class ClusterConfigJson
{
    /// <summary>A parsed PUT body.</summary>
    public sealed record Patch(IReadOnlyDictionary<string, string> Upsert, IReadOnlyList<string> Remove);

    /// <summary>A body that is valid JSON but not a valid patch (its message is meant for the client).</summary>
    public sealed class PatchException(string message) : JsonException(message);

    public static void Write(IBufferWriter<byte> output, IReadOnlyDictionary<string, string?> config)
    {
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        var keys = new List<string>(config.Keys);
        keys.Sort(StringComparer.Ordinal);
        foreach (string key in keys)
        {
            string? value = config[key];
            writer.WritePropertyName(key);
            WriteValue(writer, value);
        }
        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, string? value)
    {
        if (value is null) writer.WriteNullValue();
        else if (value == "true") writer.WriteBooleanValue(true);
        else if (value == "false") writer.WriteBooleanValue(false);
        else if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)
                 && l.ToString(CultureInfo.InvariantCulture) == value)
            writer.WriteNumberValue(l);
        else if (IsPlainDecimal(value) && double.TryParse(value, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign,
                     CultureInfo.InvariantCulture, out double d) && double.IsFinite(d))
            writer.WriteRawValue(value, skipInputValidation: false);
        else writer.WriteStringValue(value);
    }

    /// <summary>"0.5", "-12.25": digits, one dot with digits on both sides, no leading zeros before other digits.</summary>
    private static bool IsPlainDecimal(string value)
    {
        int start = value.StartsWith('-') ? 1 : 0;
        int dot = value.IndexOf('.');
        if (dot <= start || dot == value.Length - 1 || value.IndexOf('.', dot + 1) >= 0) return false;
        if (dot - start > 1 && value[start] == '0') return false;
        for (int i = start; i < value.Length; i++)
            if (i != dot && !char.IsAsciiDigit(value[i])) return false;
        return true;
    }

    /// <summary>Reads a PUT body; throws <see cref="PatchException"/> naming what is wrong.</summary>
    public static Patch ParsePatch(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new PatchException($"request body must be a JSON object with 'upsert' and/or 'remove', got {Describe(root.ValueKind)}");
        var upsert = new Dictionary<string, string>(StringComparer.Ordinal);
        var remove = new List<string>();
        foreach (var property in root.EnumerateObject())
        {
            switch (property.Name)
            {
                case "upsert":
                    if (property.Value.ValueKind == JsonValueKind.Null) break;
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new PatchException($"'upsert' must be an object of property names to values, got {Describe(property.Value.ValueKind)}");
                    foreach (var entry in property.Value.EnumerateObject())
                    {
                        CheckKey(entry.Name);
                        string? text = ValueText(entry.Name, entry.Value);
                        if (text is null) remove.Add(entry.Name);
                        else upsert[entry.Name] = text;
                    }
                    break;
                case "remove":
                    if (property.Value.ValueKind == JsonValueKind.Null) break;
                    if (property.Value.ValueKind != JsonValueKind.Array)
                        throw new PatchException($"'remove' must be an array of property names, got {Describe(property.Value.ValueKind)}");
                    foreach (var item in property.Value.EnumerateArray())
                    {
                        if (item.ValueKind != JsonValueKind.String)
                            throw new PatchException($"'remove' must hold property names (strings), got {Describe(item.ValueKind)}");
                        string name = item.GetString()!;
                        CheckKey(name);
                        remove.Add(name);
                    }
                    break;
                default:
                    throw new PatchException($"unknown field '{property.Name}' (expected 'upsert' and/or 'remove')");
            }
        }
        foreach (string name in remove)
            if (upsert.ContainsKey(name)) throw new PatchException($"property '{name}' is both upserted and removed");
        if (upsert.Count == 0 && remove.Count == 0) throw new PatchException("nothing to change: 'upsert' and 'remove' are both empty");
        return new Patch(upsert, remove);
    }

    private static void CheckKey(string name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new PatchException("property names must not be empty");
    }

    private static string? ValueText(string name, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => null,
        JsonValueKind.Array => JoinArray(name, value),
        _ => throw new PatchException($"value of '{name}' must be a string, number, boolean, null or array, got {Describe(value.ValueKind)}"),
    };

    private static string JoinArray(string name, JsonElement array)
    {
        var sb = new StringBuilder();
        foreach (var item in array.EnumerateArray())
        {
            string? text = item.ValueKind is JsonValueKind.Array or JsonValueKind.Object or JsonValueKind.Null
                ? throw new PatchException($"list value of '{name}' must hold strings, numbers or booleans, got {Describe(item.ValueKind)}")
                : ValueText(name, item);
            if (sb.Length > 0) sb.Append(',');
            sb.Append(text);
        }
        return sb.ToString();
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
