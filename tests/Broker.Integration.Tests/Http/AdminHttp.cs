using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Broker.Integration.Tests.Http;

/// <summary>One Admin API answer: status, parsed JSON body (default when empty or not JSON), raw text, headers, time taken.</summary>
public sealed record AdminAnswer(HttpStatusCode Status, JsonElement Body, string Text, HttpResponseMessage Response, TimeSpan Took)
{
    public string? ContentType => Response.Content.Headers.ContentType?.ToString();

    public override string ToString() => $"{(int)Status} in {Took.TotalMilliseconds:F0} ms: {Text}";
}

/// <summary>
/// A plain HTTP client for the broker's Admin API in the integration tests: no redirects followed (307s are
/// asserted), a per-request timeout, JSON bodies parsed, and the Redpanda error shape asserted.
/// </summary>
public sealed class AdminHttp : IDisposable
{
    private readonly HttpClient _client;

    public AdminHttp(TimeSpan? timeout = null)
    {
        _client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
        {
            Timeout = timeout ?? TimeSpan.FromSeconds(5),
        };
    }

    public async Task<AdminAnswer> SendAsync(string baseUrl, HttpMethod method, string path, string? body = null,
        string? contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, baseUrl + path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);
            // Large bodies wait for "100 Continue" (as curl does): a refused one (413) is then never sent, so the
            // answer cannot be lost to a connection the server closes while the client is still writing.
            if (body.Length > 64 * 1024) request.Headers.ExpectContinue = true;
        }
        var sw = Stopwatch.StartNew();
        var response = await _client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        sw.Stop();
        JsonElement json = default;
        if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType == "application/json")
            json = JsonDocument.Parse(text).RootElement.Clone();
        return new AdminAnswer(response.StatusCode, json, text, response, sw.Elapsed);
    }

    public Task<AdminAnswer> GetAsync(string baseUrl, string path) => SendAsync(baseUrl, HttpMethod.Get, path);

    /// <summary>
    /// Waits until the Admin API at <paramref name="baseUrl"/> accepts connections and answers /v1/status/ready: the
    /// fixtures wait for the Kafka port, and the HTTP servers start a moment after the node.
    /// </summary>
    public async Task WaitUpAsync(string baseUrl, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(10);
        var sw = Stopwatch.StartNew();
        string last = "not tried";
        while (sw.Elapsed < limit)
        {
            try
            {
                var a = await GetAsync(baseUrl, "/v1/status/ready");
                if (a.Status == HttpStatusCode.OK) return;
                last = a.ToString();
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            await Task.Delay(50);
        }
        Assert.Fail($"the Admin API at {baseUrl} did not answer within {limit.TotalSeconds:F0} s: {last}");
    }

    /// <summary>GET that must answer 200 with JSON; returns the body.</summary>
    public async Task<JsonElement> GetOkAsync(string baseUrl, string path)
    {
        var a = await GetAsync(baseUrl, path);
        Assert.True(a.Status == HttpStatusCode.OK, $"GET {baseUrl}{path}: {a}");
        Assert.Equal("application/json; charset=utf-8", a.ContentType);
        return a.Body;
    }

    /// <summary>Asserts the Redpanda error shape {"message": ..., "code": status} with <paramref name="fragment"/> in the message.</summary>
    public static void AssertError(AdminAnswer a, HttpStatusCode status, string fragment)
    {
        Assert.True(a.Status == status, $"expected {(int)status}, got {a}");
        Assert.Equal("application/json; charset=utf-8", a.ContentType);
        Assert.Equal((int)status, a.Body.GetProperty("code").GetInt32());
        Assert.Contains(fragment, a.Body.GetProperty("message").GetString());
    }

    public static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    public void Dispose() => _client.Dispose();
}
