using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Broker.Http.Proxy;

/// <summary>Request/response plumbing of the proxy handlers: negotiation, bodies, parameters, JSON answers.</summary>
internal static class ProxyHttp
{
    /// <summary>The request body, whole (Kestrel bounds its size).</summary>
    public static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCompleted || result.IsCanceled)
            {
                byte[] bytes = result.Buffer.ToArray();
                reader.AdvanceTo(result.Buffer.End);
                return bytes;
            }
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    /// <summary>The format the Accept header selects, else 406.</summary>
    public static ProxyFormat Accept(HttpRequest request, ReadOnlySpan<ProxyFormat> supported, bool allowNone)
    {
        string? header = request.Headers.Accept;
        var format = ProxyMediaTypes.Select(header, supported, allowNone);
        if (format == ProxyFormat.Unsupported)
        {
            throw new ProxyException(ProxyErrorCodes.NotAcceptable,
                $"HTTP 406 Not Acceptable: Accept '{header}' names none of {List(supported)}");
        }
        return format;
    }

    /// <summary>The format the Content-Type header names, else 415.</summary>
    public static ProxyFormat ContentType(HttpRequest request, ReadOnlySpan<ProxyFormat> supported, bool allowNone)
    {
        string? header = request.ContentType;
        var format = ProxyMediaTypes.Select(header, supported, allowNone);
        if (format == ProxyFormat.Unsupported)
        {
            throw new ProxyException(ProxyErrorCodes.UnsupportedMediaType,
                $"HTTP 415 Unsupported Media Type: Content-Type '{header}' is not one of {List(supported)}");
        }
        return format;
    }

    private static string List(ReadOnlySpan<ProxyFormat> formats)
    {
        var names = new string[formats.Length];
        for (int i = 0; i < formats.Length; i++) names[i] = ProxyMediaTypes.Name(formats[i]);
        return string.Join(", ", names);
    }

    /// <summary>Deserializes a control body (source-generated); malformed or null JSON is 422.</summary>
    public static T ParseBody<T>(ReadOnlyMemory<byte> body, JsonTypeInfo<T> typeInfo) where T : class
    {
        T? value;
        try
        {
            value = JsonSerializer.Deserialize(body.Span, typeInfo);
        }
        catch (JsonException ex)
        {
            throw ProxyErrorCodes.BadBody($"HTTP 422 Unprocessable Entity: invalid JSON body: {ex.Message}", ex);
        }
        return value ?? throw ProxyErrorCodes.BadBody("HTTP 422 Unprocessable Entity: the body must be a JSON object");
    }

    public static string RouteValue(HttpContext context, string name) =>
        context.Request.RouteValues[name] as string ?? throw ProxyErrorCodes.BadParameter($"Missing mandatory parameter '{name}'");

    public static int RouteInt(HttpContext context, string name)
    {
        string text = RouteValue(context, name);
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            throw ProxyErrorCodes.BadParameter($"Invalid parameter '{name}' got '{text}'");
        return value;
    }

    /// <summary>A query parameter as a long within [min, max]; null when absent and not <paramref name="required"/>.</summary>
    public static long? QueryLong(HttpRequest request, string name, bool required, long min, long max)
    {
        string? text = request.Query[name];
        if (string.IsNullOrEmpty(text))
        {
            if (required) throw ProxyErrorCodes.BadParameter($"Missing mandatory parameter '{name}'");
            return null;
        }
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)
            || value < min || value > max)
        {
            throw ProxyErrorCodes.BadParameter($"Invalid parameter '{name}' got '{text}'");
        }
        return value;
    }

    public static Task WriteJsonAsync<T>(HttpContext context, int status, T value, JsonTypeInfo<T> typeInfo,
        ProxyFormat format = ProxyFormat.V2) =>
        WriteBytesAsync(context, status, JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), format);

    public static async Task WriteBytesAsync(HttpContext context, int status, ReadOnlyMemory<byte> body, ProxyFormat format)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = ProxyMediaTypes.Name(format);
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    public static Task WriteErrorAsync(HttpContext context, int errorCode, string message)
    {
        var response = context.Response;
        if (response.HasStarted) return Task.CompletedTask;
        return WriteJsonAsync(context, ProxyErrorCodes.HttpStatus(errorCode),
            new ErrorBody { ErrorCode = errorCode, Message = message }, ProxyJsonContext.Default.ErrorBody);
    }

    public static void NoContent(HttpContext context) => context.Response.StatusCode = StatusCodes.Status204NoContent;
}
