using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Broker.Http.Proxy;
using Xunit;

namespace Broker.Http.Tests.Proxy;

/// <summary>
/// A real proxy listener (Kestrel on 127.0.0.1, a free port) over a <see cref="FakeCluster"/>, a hand-moved clock
/// (no background expiry; tests sweep) and an HttpClient pointed at it.
/// </summary>
internal sealed class ProxyFixture : IAsyncDisposable
{
    public const string V2 = "application/vnd.kafka.v2+json";
    public const string Json = "application/vnd.kafka.json.v2+json";
    public const string Binary = "application/vnd.kafka.binary.v2+json";

    private ProxyFixture(HttpProxyServer server, FakeCluster cluster, FakeClock clock)
    {
        Server = server;
        Cluster = cluster;
        Clock = clock;
        Http = new HttpClient { BaseAddress = new Uri(server.Urls[0]), Timeout = TimeSpan.FromSeconds(20) };
    }

    public HttpProxyServer Server { get; }
    public FakeCluster Cluster { get; }
    public FakeClock Clock { get; }
    public HttpClient Http { get; }

    public static async Task<ProxyFixture> StartAsync(TimeSpan? instanceTimeout = null, string? advertisedHost = null,
        Broker.Http.Hosting.HttpServerLimits? limits = null)
    {
        var cluster = new FakeCluster();
        var clock = new FakeClock();
        var options = new HttpProxyOptions
        {
            Listen = [("127.0.0.1", 0)],
            BootstrapServers = "fake:9092",
            ConsumerInstanceTimeout = instanceTimeout ?? TimeSpan.FromMinutes(5),
            AdvertisedHost = advertisedHost,
        };
        if (limits is not null) options = new HttpProxyOptions
        {
            Listen = options.Listen,
            BootstrapServers = options.BootstrapServers,
            ConsumerInstanceTimeout = options.ConsumerInstanceTimeout,
            AdvertisedHost = advertisedHost,
            Limits = limits,
        };
        var server = await HttpProxyServer.StartAsync(options, cluster, clock, sweepInterval: null, CancellationToken.None);
        return new ProxyFixture(server, cluster, clock);
    }

    /// <summary>Sends a request with exact headers: null = header absent.</summary>
    public async Task<Response> SendAsync(HttpMethod method, string path, string? body = null, string? contentType = null,
        string? accept = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        else if (contentType is not null)
        {
            request.Content = new ByteArrayContent([]);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return new Response(response.StatusCode, response.Content.Headers.ContentType?.MediaType, text);
    }

    public Task<Response> GetAsync(string path, string? accept = null, string? body = null, string? contentType = null) =>
        SendAsync(HttpMethod.Get, path, body, contentType, accept);

    public Task<Response> PostAsync(string path, string? body, string? contentType, string? accept = null) =>
        SendAsync(HttpMethod.Post, path, body, contentType, accept);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }

    internal sealed record Response(HttpStatusCode Status, string? MediaType, string Body)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

        public Response Expect(HttpStatusCode status)
        {
            Assert.True(status == Status, $"expected {(int)status}, got {(int)Status}: {Body}");
            return this;
        }

        /// <summary>Asserts an error answer: HTTP status and {"error_code","message"} body.</summary>
        public void ExpectError(HttpStatusCode status, int errorCode)
        {
            Expect(status);
            Assert.Equal(ProxyFixture.V2, MediaType);
            var json = Json;
            Assert.Equal(errorCode, json.GetProperty("error_code").GetInt32());
            Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("message").GetString()));
        }
    }
}
