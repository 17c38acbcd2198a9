using System.Globalization;

namespace Broker.Config;

/// <summary>Value types of configuration keys (the same names Kafka's DescribeConfigs reports).</summary>
public enum ConfigType { Boolean, String, Int, Short, Long, Double, List }

/// <summary>
/// One row of the known-key table: name, type, default, range/valid values, an optional extra validator and
/// the documentation text. The same row drives parsing, defaults, <c>check-config</c> and the commented
/// default server.properties.
/// </summary>
public sealed class ConfigKey
{
    public required string Name { get; init; }
    public required ConfigType Type { get; init; }
    /// <summary>Default in properties syntax; null = no static default (required, optional, or derived).</summary>
    public string? Default { get; init; }
    /// <summary>Human text for the default when <see cref="Default"/> is null, e.g. "listeners minus controller listeners".</summary>
    public string? DefaultNote { get; init; }
    public required string Doc { get; init; }
    public required string Section { get; init; }
    public long Min { get; init; } = long.MinValue;
    public long Max { get; init; } = long.MaxValue;
    public double DoubleMin { get; init; } = double.NegativeInfinity;
    public double DoubleMax { get; init; } = double.PositiveInfinity;
    /// <summary>For String: the accepted values; for List: the accepted items (case-sensitive, as Kafka).</summary>
    public IReadOnlyList<string>? ValidValues { get; init; }
    /// <summary>Extra syntactic check on a type-valid value; returns an error detail or null.</summary>
    public Func<string, string?>? Validator { get; init; }
    /// <summary>Set for legacy/alternative spellings folded into another key (broker.id → node.id).</summary>
    public string? AliasOf { get; init; }
    /// <summary>Empty list allowed (List type). Most lists must not be empty when given.</summary>
    public bool AllowEmpty { get; init; }
    /// <summary>For a broker key: may be changed at runtime through the dynamic config APIs
    /// (<see cref="DynamicBrokerConfigs"/>); false = read-only, a change needs a restart.</summary>
    public bool IsDynamic => DynamicBrokerConfigs.IsDynamic(Name);

    /// <summary>Checks a raw value against type, range and validator; returns an error detail or null.</summary>
    public string? Check(string value)
    {
        string v = value.Trim();
        switch (Type)
        {
            case ConfigType.Boolean:
                if (!v.Equals("true", StringComparison.OrdinalIgnoreCase) && !v.Equals("false", StringComparison.OrdinalIgnoreCase))
                    return $"expected true or false, got '{value}'";
                break;
            case ConfigType.Int:
            case ConfigType.Short:
            case ConfigType.Long:
                long typeMin = Type == ConfigType.Int ? int.MinValue : Type == ConfigType.Short ? short.MinValue : long.MinValue;
                long typeMax = Type == ConfigType.Int ? int.MaxValue : Type == ConfigType.Short ? short.MaxValue : long.MaxValue;
                if (!long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)
                    || l < Math.Max(Min, typeMin) || l > Math.Min(Max, typeMax))
                    return $"expected {DescribeRange()}, got '{value}'";
                break;
            case ConfigType.Double:
                if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
                    || double.IsNaN(d) || d < DoubleMin || d > DoubleMax)
                    return $"expected {DescribeRange()}, got '{value}'";
                break;
            case ConfigType.String:
                if (ValidValues is not null && !Contains(ValidValues, v))
                    return $"expected one of {string.Join(", ", ValidValues)}, got '{value}'";
                break;
            case ConfigType.List:
                var items = ConfigValues.SplitList(v);
                if (items.Count == 0 && !AllowEmpty && Validator is null)
                    return "expected a non-empty comma-separated list";
                if (ValidValues is not null)
                    foreach (string item in items)
                        if (!Contains(ValidValues, item))
                            return $"expected a list of {string.Join(", ", ValidValues)}, got '{item}'";
                break;
        }
        return Validator?.Invoke(v);
    }

    /// <summary>"a positive integer", "an integer between 14 and 2147483647", ...</summary>
    public string DescribeRange()
    {
        if (Type == ConfigType.Double)
        {
            bool lo = !double.IsNegativeInfinity(DoubleMin), hi = !double.IsPositiveInfinity(DoubleMax);
            string dMin = DoubleMin.ToString(CultureInfo.InvariantCulture), dMax = DoubleMax.ToString(CultureInfo.InvariantCulture);
            return lo && hi ? $"a number between {dMin} and {dMax}" : lo ? $"a number >= {dMin}" : hi ? $"a number <= {dMax}" : "a number";
        }
        long typeMin = Type == ConfigType.Int ? int.MinValue : Type == ConfigType.Short ? short.MinValue : long.MinValue;
        long typeMax = Type == ConfigType.Int ? int.MaxValue : Type == ConfigType.Short ? short.MaxValue : long.MaxValue;
        long min = Math.Max(Min, typeMin), max = Math.Min(Max, typeMax);
        if (max == typeMax)
        {
            if (min == typeMin) return "an integer";
            if (min == 1) return "a positive integer";
            if (min == 0) return "a non-negative integer";
            if (min == -1) return "an integer >= -1 (-1 = unlimited)";
            return $"an integer >= {min}";
        }
        return $"an integer between {min} and {max}";
    }

    private static bool Contains(IReadOnlyList<string> values, string v)
    {
        foreach (string s in values) if (s == v) return true;
        return false;
    }
}

/// <summary>Small helpers shared by the parsers.</summary>
public static class ConfigValues
{
    /// <summary>Kafka list syntax: comma-separated, items trimmed, empty items dropped.</summary>
    public static List<string> SplitList(string value)
    {
        var list = new List<string>();
        foreach (string part in value.Split(','))
        {
            string t = part.Trim();
            if (t.Length > 0) list.Add(t);
        }
        return list;
    }

    public static long ParseLong(string value) => long.Parse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    public static double ParseDouble(string value) => double.Parse(value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture);
    public static bool ParseBool(string value) => value.Trim().Equals("true", StringComparison.OrdinalIgnoreCase);
}
