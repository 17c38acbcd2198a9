using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Broker.Client;

namespace Broker.Http.Proxy;

/// <summary>
/// Writes consumed records as the REST proxy's top-level array <c>[{"topic","key","value","partition","offset"}]</c>.
/// binary.v2: key/value as base64, null when absent or empty. json.v2: key/value embedded as JSON (null when absent
/// or empty); bytes that are not one JSON value fail the whole answer with 40801 (serialization error), as pandaproxy.
/// </summary>
internal static class RecordJsonWriter
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes <paramref name="records"/> (those at or after <paramref name="fromOffset"/>) to <paramref name="output"/>.</summary>
    public static void Write(IBufferWriter<byte> output, IReadOnlyList<ConsumedRecord> records, ProxyFormat format,
        long fromOffset = long.MinValue)
    {
        if (format is not (ProxyFormat.Binary or ProxyFormat.Json))
            throw new ArgumentOutOfRangeException(nameof(format), format, "records are binary or json");
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartArray();
        for (int i = 0; i < records.Count; i++)
        {
            var record = records[i];
            if (record.Offset < fromOffset) continue;
            writer.WriteStartObject();
            writer.WriteString("topic"u8, record.Topic);
            writer.WritePropertyName("key"u8);
            WritePayload(writer, record.Key, format, record, "key");
            writer.WritePropertyName("value"u8);
            WritePayload(writer, record.Value, format, record, "value");
            writer.WriteNumber("partition"u8, record.Partition);
            writer.WriteNumber("offset"u8, record.Offset);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    private static void WritePayload(Utf8JsonWriter writer, byte[]? bytes, ProxyFormat format, ConsumedRecord record, string field)
    {
        if (bytes is null || bytes.Length == 0)
        {
            writer.WriteNullValue();
            return;
        }
        if (format == ProxyFormat.Binary)
        {
            writer.WriteBase64StringValue(bytes);
            return;
        }
        if (!IsOneJsonValue(bytes))
        {
            throw new ProxyException(ProxyErrorCodes.SerializationError,
                $"Unable to serialize {field} of record at offset {record.Offset} in topic:partition {record.Topic}:{record.Partition}: not JSON");
        }
        writer.WriteRawValue(bytes, skipInputValidation: true);
    }

    /// <summary>True when <paramref name="bytes"/> hold exactly one JSON value (whitespace around it allowed).</summary>
    internal static bool IsOneJsonValue(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read()) return false;
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
