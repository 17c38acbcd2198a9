using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Broker.Http.Proxy;

/// <summary>One record of a produce request: key/value bytes (null = absent/null) and an optional explicit partition.</summary>
internal sealed record ProxyRecord(byte[]? Key, byte[]? Value, int? Partition);

/// <summary>
/// Parses the body of <c>POST /topics/{topic}</c>: <c>{"records":[{"key":..,"value":..,"partition":N}, ...]}</c>.
/// binary.v2: key and value are base64 strings (or null). json.v2: key and value are any JSON value, kept as its
/// compact serialization. Anything else (unknown fields, wrong types, bad base64, malformed JSON) is a
/// <see cref="ProxyException"/> with code 422.
/// </summary>
internal static class ProduceRequestParser
{
    private static readonly JsonWriterOptions CompactWriter = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    public static List<ProxyRecord> Parse(ReadOnlyMemory<byte> body, ProxyFormat format)
    {
        if (format is not (ProxyFormat.Binary or ProxyFormat.Json))
            throw new ArgumentOutOfRangeException(nameof(format), format, "records are binary or json");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw ProxyErrorCodes.BadBody($"invalid JSON body: {ex.Message}", ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw ProxyErrorCodes.BadBody("the body must be a JSON object with a \"records\" array");
            JsonElement? records = null;
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals("records")) records = property.Value;
                else throw ProxyErrorCodes.BadBody($"unknown field '{property.Name}' in the produce request");
            }
            if (records is not { ValueKind: JsonValueKind.Array } array)
                throw ProxyErrorCodes.BadBody("the body must have a \"records\" array");
            var result = new List<ProxyRecord>(array.GetArrayLength());
            int index = 0;
            foreach (var record in array.EnumerateArray())
            {
                result.Add(ParseRecord(record, index, format));
                index++;
            }
            return result;
        }
    }

    private static ProxyRecord ParseRecord(JsonElement record, int index, ProxyFormat format)
    {
        if (record.ValueKind != JsonValueKind.Object)
            throw ProxyErrorCodes.BadBody($"records[{index}] must be an object");
        byte[]? key = null, value = null;
        int? partition = null;
        foreach (var property in record.EnumerateObject())
        {
            if (property.NameEquals("key")) key = Payload(property.Value, format, index, "key");
            else if (property.NameEquals("value")) value = Payload(property.Value, format, index, "value");
            else if (property.NameEquals("partition")) partition = Partition(property.Value, index);
            else throw ProxyErrorCodes.BadBody($"unknown field '{property.Name}' in records[{index}]");
        }
        return new ProxyRecord(key, value, partition);
    }

    private static int? Partition(JsonElement element, int index)
    {
        if (element.ValueKind == JsonValueKind.Null) return null;
        if (element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out int p) && p >= 0) return p;
        throw ProxyErrorCodes.BadBody($"records[{index}].partition must be a non-negative integer");
    }

    private static byte[]? Payload(JsonElement element, ProxyFormat format, int index, string field)
    {
        if (element.ValueKind == JsonValueKind.Null) return null;
        if (format == ProxyFormat.Json) return Compact(element);
        if (element.ValueKind != JsonValueKind.String)
            throw ProxyErrorCodes.BadBody($"records[{index}].{field} must be a base64 string or null");
        string text = element.GetString()!;
        var bytes = new byte[(text.Length * 3 + 3) / 4];
        if (!Convert.TryFromBase64String(text, bytes, out int written))
            throw ProxyErrorCodes.BadBody($"records[{index}].{field} is not valid base64");
        return written == bytes.Length ? bytes : bytes.AsSpan(0, written).ToArray();
    }

    /// <summary>The element's compact JSON text (UTF-8, no insignificant whitespace).</summary>
    internal static byte[] Compact(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer, CompactWriter)) element.WriteTo(writer);
        return buffer.WrittenSpan.ToArray();
    }
}
