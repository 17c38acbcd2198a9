using System.Buffers;
using System.Text.Json;
using Broker.Core.Model;
using Microsoft.AspNetCore.Http;

namespace Broker.Http.Admin;

// GET/PUT /v1/cluster_config (cluster-wide dynamic configuration through the metadata log) and GET /v1/node_config.
public sealed partial class AdminApiServer
{
    private Task GetClusterConfigAsync(HttpContext context)
    {
        if (!_backend.ClusterConfigAvailable) return ConfigUnavailableAsync(context);
        if (!TryQueryBool(context, "include_defaults", true, out bool includeDefaults, out var error)) return error;
        var config = _backend.ClusterConfig(includeDefaults);
        string? key = context.Request.Query["key"];
        if (!string.IsNullOrEmpty(key))
        {
            // A single key: looked up among every known key, so a key left at its default is still found.
            var all = includeDefaults ? config : _backend.ClusterConfig(includeDefaults: true);
            if (!all.TryGetValue(key, out string? value))
                return ErrorAsync(context, StatusCodes.Status404NotFound, $"unknown cluster property '{key}'");
            config = new Dictionary<string, string?>(StringComparer.Ordinal) { [key] = value };
        }
        var buffer = new ArrayBufferWriter<byte>(4096);
        ClusterConfigJson.Write(buffer, config);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).AsTask();
    }

    private async Task PutClusterConfigAsync(HttpContext context)
    {
        if (!IsJsonContentType(context.Request.ContentType))
        {
            await ErrorAsync(context, StatusCodes.Status415UnsupportedMediaType,
                $"content type must be application/json, got '{context.Request.ContentType}'").ConfigureAwait(false);
            return;
        }
        if (!TryQueryBool(context, "dry_run", false, out bool dryRun, out var queryError))
        {
            await queryError.ConfigureAwait(false);
            return;
        }
        ClusterConfigJson.Patch patch;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted).ConfigureAwait(false);
            patch = ClusterConfigJson.ParsePatch(document.RootElement);
        }
        catch (JsonException ex)
        {
            string detail = ex is ClusterConfigJson.PatchException ? ex.Message : $"request body is not valid JSON: {FirstLine(ex.Message)}";
            await ErrorAsync(context, StatusCodes.Status400BadRequest, detail).ConfigureAwait(false);
            return;
        }
        if (!_backend.ClusterConfigAvailable)
        {
            await ConfigUnavailableAsync(context).ConfigureAwait(false);
            return;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(_options.ConfigWriteTimeout);
        ClusterConfigWrite result;
        try
        {
            result = await _backend.AlterClusterConfigAsync(patch.Upsert, patch.Remove, dryRun, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            result = new ClusterConfigWrite(ErrorCode.RequestTimedOut, $"the configuration change was not confirmed within {_options.ConfigWriteTimeout.TotalSeconds:0} s", -1);
        }
        if (result.Error == ErrorCode.None)
        {
            await OkAsync(context, new ConfigVersionBody(result.ConfigVersion), AdminJsonContext.Default.ConfigVersionBody).ConfigureAwait(false);
            return;
        }
        int status = result.Error switch
        {
            ErrorCode.InvalidConfig or ErrorCode.InvalidRequest or ErrorCode.PolicyViolation => StatusCodes.Status400BadRequest,
            ErrorCode.ClusterAuthorizationFailed => StatusCodes.Status403Forbidden,
            ErrorCode.NotController or ErrorCode.RequestTimedOut or ErrorCode.NotEnoughReplicas => StatusCodes.Status503ServiceUnavailable,
            _ => StatusCodes.Status500InternalServerError,
        };
        await ErrorAsync(context, status, result.Message ?? $"configuration change failed: {result.Error}").ConfigureAwait(false);
    }

    private Task NodeConfigAsync(HttpContext context)
    {
        var config = _backend.NodeConfig() with { Admin = BoundAddresses() };
        return OkAsync(context, config, AdminJsonContext.Default.NodeConfigInfo);
    }

    private List<AddressInfo> BoundAddresses()
    {
        var list = new List<AddressInfo>();
        foreach (string url in Urls)
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri)) list.Add(new AddressInfo(uri.Host.Trim('[', ']'), uri.Port));
        return list;
    }

    private static Task ConfigUnavailableAsync(HttpContext context) =>
        ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "cluster configuration is not available on this node yet");

    /// <summary>application/json or any +json type (parameters such as charset allowed); an absent content type is accepted.</summary>
    internal static bool IsJsonContentType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType)) return true;
        int semicolon = contentType.IndexOf(';');
        var media = (semicolon >= 0 ? contentType.AsSpan(0, semicolon) : contentType.AsSpan()).Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
               || (media.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && media.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    private static bool TryQueryBool(HttpContext context, string name, bool fallback, out bool value, out Task error)
    {
        error = Task.CompletedTask;
        string? text = context.Request.Query[name];
        if (string.IsNullOrEmpty(text)) { value = fallback; return true; }
        if (bool.TryParse(text, out value)) return true;
        error = ErrorAsync(context, StatusCodes.Status400BadRequest, $"{name} must be true or false, got '{text}'");
        return false;
    }

    private static string FirstLine(string text)
    {
        int nl = text.IndexOf('\n');
        return nl >= 0 ? text[..nl].TrimEnd() : text;
    }
}
