using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Broker.Cli.Arguments;
using Broker.Client;
using Broker.Core.Records;

namespace Broker.Cli.Output;

/// <summary>
/// How <c>consume</c> prints a record, compiled once from a format string such as <c>'%k\t%v\n'</c>:
/// <c>%t</c> topic, <c>%p</c> partition, <c>%o</c> offset, <c>%k</c> key, <c>%v</c> value, <c>%T</c> timestamp (Unix ms),
/// <c>%h</c> headers (<c>k=v,k2=v2</c>), <c>%K</c>/<c>%V</c> key/value length (-1 when null), <c>%%</c> a percent sign;
/// escapes <c>\n \t \r \0 \\</c>. Keys and values are written as raw bytes; a null key or value prints <c>null</c>.
/// </summary>
internal sealed class RecordFormat
{
    private enum Field : byte { Literal, Topic, Partition, Offset, Key, Value, Timestamp, Headers, KeyLength, ValueLength }

    private readonly (Field Field, byte[]? Literal)[] _parts;

    private RecordFormat((Field, byte[]?)[] parts, string text)
    {
        _parts = parts;
        Text = text;
    }

    /// <summary>The format string this was compiled from.</summary>
    public string Text { get; }

    private static readonly byte[] s_null = "null"u8.ToArray();

    /// <summary>The format the print flags describe: [partition:offset TAB] [timestamp TAB] [key TAB] value NEWLINE.</summary>
    public static string FromFlags(bool printOffset, bool printTimestamp, bool printKey)
    {
        var sb = new StringBuilder();
        if (printOffset) sb.Append("%p:%o\\t");
        if (printTimestamp) sb.Append("%T\\t");
        if (printKey) sb.Append("%k\\t");
        return sb.Append("%v\\n").ToString();
    }

    /// <summary>Compiles <paramref name="format"/>; a usage error names an unknown field.</summary>
    public static RecordFormat Parse(string format, string option = "--format", string? commandPath = null)
    {
        var parts = new List<(Field, byte[]?)>();
        var literal = new StringBuilder();
        void FlushLiteral()
        {
            if (literal.Length == 0) return;
            parts.Add((Field.Literal, Encoding.UTF8.GetBytes(ValueParsers.Unescape(literal.ToString()))));
            literal.Clear();
        }
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c == '\\' && i + 1 < format.Length)
            {
                // Keep escapes together so "\%" is never read as a field.
                literal.Append(c).Append(format[++i]);
                continue;
            }
            if (c != '%')
            {
                literal.Append(c);
                continue;
            }
            if (i + 1 == format.Length)
                throw new UsageException($"{option}: '%' at the end of the format; write %% for a percent sign", commandPath);
            char f = format[++i];
            Field field;
            switch (f)
            {
                case '%': literal.Append('%'); continue;
                case 't': field = Field.Topic; break;
                case 'p': field = Field.Partition; break;
                case 'o': field = Field.Offset; break;
                case 'k': field = Field.Key; break;
                case 'v': field = Field.Value; break;
                case 'T': field = Field.Timestamp; break;
                case 'h': field = Field.Headers; break;
                case 'K': field = Field.KeyLength; break;
                case 'V': field = Field.ValueLength; break;
                default:
                    throw new UsageException($"{option}: unknown field %{f} (known: %t %p %o %k %v %T %h %K %V %%)", commandPath);
            }
            FlushLiteral();
            parts.Add((field, null));
        }
        FlushLiteral();
        return new RecordFormat(parts.ToArray(), format);
    }

    /// <summary>Appends the formatted record to <paramref name="output"/>.</summary>
    public void Write(ConsumedRecord record, IBufferWriter<byte> output)
    {
        foreach (var (field, literal) in _parts)
        {
            switch (field)
            {
                case Field.Literal: output.Write(literal); break;
                case Field.Topic: WriteString(output, record.Topic); break;
                case Field.Partition: WriteNumber(output, record.Partition); break;
                case Field.Offset: WriteNumber(output, record.Offset); break;
                case Field.Key: output.Write(record.Key ?? s_null); break;
                case Field.Value: output.Write(record.Value ?? s_null); break;
                case Field.Timestamp: WriteNumber(output, record.Timestamp); break;
                case Field.KeyLength: WriteNumber(output, record.Key?.Length ?? -1); break;
                case Field.ValueLength: WriteNumber(output, record.Value?.Length ?? -1); break;
                case Field.Headers: WriteHeaders(output, record); break;
            }
        }
    }

    /// <summary>The formatted record as a string (tests, text output).</summary>
    public string Format(ConsumedRecord record)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(record, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteHeaders(IBufferWriter<byte> output, ConsumedRecord record)
    {
        for (int i = 0; i < record.Headers.Count; i++)
        {
            if (i > 0) output.Write(","u8);
            var h = record.Headers[i];
            WriteString(output, h.Key);
            output.Write("="u8);
            if (h.Value is { } v) output.Write(v);
        }
    }

    private static void WriteString(IBufferWriter<byte> output, string s)
    {
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        var span = output.GetSpan(max);
        int n = Encoding.UTF8.GetBytes(s, span);
        output.Advance(n);
    }

    private static void WriteNumber(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out int n);
        output.Advance(n);
    }
}
