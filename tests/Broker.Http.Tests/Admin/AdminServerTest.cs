using System.Net;
using System.Text;
using System.Text.Json;
using Broker.Core.Metrics;
using Broker.Http.Admin;
using Xunit;

namespace Broker.Http.Tests.Admin;

/// <summary>Base of the Admin API tests: a real server on a free loopback port over a <see cref="FakeAdminBackend"/>,
/// and an HttpClient that does not follow redirects.</summary>
public abstract class AdminServerTest : IAsyncLifetime
{
    private AdminApiServer? _server;

    internal FakeAdminBackend Backend { get; } = new();
    protected HttpClient Client { get; } = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
    protected AdminApiServer Server => _server!;
    protected string BaseUrl { get; private set; } = "";
    protected Func<MetricsScope, string> RenderMetrics { get; set; } = scope => $"# scope {scope}\nup 1\n";
    protected long MaxBodyBytes { get; set; } = 64 * 1024;

    public async Task InitializeAsync()
    {
        _server = await AdminApiServer.StartAsync(new AdminApiOptions
        {
            Listen = [("127.0.0.1", 0)],
            RenderMetrics = scope => RenderMetrics(scope),
            Limits = new Hosting.HttpServerLimits { MaxRequestBodyBytes = MaxBodyBytes },
        }, Backend, CancellationToken.None);
        BaseUrl = Assert.Single(_server.Urls);
        Client.BaseAddress = new Uri(BaseUrl);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (_server is not null) await _server.DisposeAsync();
    }

    protected async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path,
        string? body = null, string? contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = contentType is null ? null : System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
            // Larger bodies wait for "100 Continue" (as curl does), so a 413 is not lost to a connection closed mid-upload.
            if (body.Length > 1024) request.Headers.ExpectContinue = true;
        }
        var response = await Client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        JsonElement json = default;
        if (text.Length > 0)
        {
            try { json = JsonDocument.Parse(text).RootElement.Clone(); }
            catch (JsonException) { Assert.Fail($"{method} {path} -> {(int)response.StatusCode}: body is not JSON: {text}"); }
        }
        return (response.StatusCode, json, response);
    }

    protected Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    /// <summary>Asserts a JSON error body {"message": ..., "code": status} with a message containing <paramref name="fragment"/>.</summary>
    protected static void AssertError((HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response) r, HttpStatusCode status, string fragment)
    {
        Assert.True(status == r.Status, $"expected {(int)status}, got {(int)r.Status}: {r.Body}");
        Assert.Equal("application/json; charset=utf-8", r.Response.Content.Headers.ContentType?.ToString());
        Assert.Equal((int)status, r.Body.GetProperty("code").GetInt32());
        string message = r.Body.GetProperty("message").GetString()!;
        Assert.Contains(fragment, message);
    }
}
