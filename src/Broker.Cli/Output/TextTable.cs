using System.Text;

namespace Broker.Cli.Output;

/// <summary>
/// A plain-text table: upper-case headers, columns left-aligned and separated by two spaces, no trailing blanks,
/// rows in the order added. Script-friendly (split on whitespace) and deterministic.
/// </summary>
internal sealed class TextTable
{
    private readonly string[] _headers;
    private readonly List<string[]> _rows = new();

    public TextTable(params string[] headers) => _headers = headers;

    public int RowCount => _rows.Count;

    public void Add(params string[] cells)
    {
        if (cells.Length != _headers.Length)
            throw new ArgumentException($"row has {cells.Length} cells, table has {_headers.Length} columns");
        _rows.Add(cells);
    }

    public void WriteTo(TextWriter writer, bool includeHeader = true) => writer.Write(Render(includeHeader));

    public string Render(bool includeHeader = true)
    {
        int columns = _headers.Length;
        var widths = new int[columns];
        if (includeHeader)
            for (int c = 0; c < columns; c++) widths[c] = _headers[c].Length;
        foreach (var row in _rows)
            for (int c = 0; c < columns; c++) widths[c] = Math.Max(widths[c], row[c].Length);

        var sb = new StringBuilder();
        if (includeHeader) AppendRow(sb, _headers, widths);
        foreach (var row in _rows) AppendRow(sb, row, widths);
        return sb.ToString();
    }

    private static void AppendRow(StringBuilder sb, string[] cells, int[] widths)
    {
        int start = sb.Length;
        for (int c = 0; c < cells.Length; c++)
        {
            sb.Append(cells[c]);
            if (c < cells.Length - 1) sb.Append(' ', widths[c] - cells[c].Length + 2);
        }
        // No trailing blanks when the last cells are empty.
        int end = sb.Length;
        while (end > start && sb[end - 1] == ' ') end--;
        sb.Length = end;
        sb.Append('\n');
    }
}

/// <summary>"KEY  value" lines with the values aligned (the summary block of describe commands).</summary>
internal sealed class KeyValueBlock
{
    private readonly List<(string Key, string Value)> _lines = new();

    public KeyValueBlock Add(string key, string value)
    {
        _lines.Add((key, value));
        return this;
    }

    public void WriteTo(TextWriter writer)
    {
        int width = 0;
        foreach (var (k, _) in _lines) width = Math.Max(width, k.Length);
        foreach (var (k, v) in _lines)
        {
            writer.Write(k);
            if (v.Length > 0)
            {
                writer.Write(new string(' ', width - k.Length + 2));
                writer.Write(v);
            }
            writer.Write('\n');
        }
    }
}
