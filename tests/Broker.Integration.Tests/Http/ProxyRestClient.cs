using System.Net;
using System.Text;
using System.Text.Json;
using Broker.Integration.Tests.Infrastructure;
using Xunit;

namespace Broker.Integration.Tests.Http;

/// <summary>
/// A thin HttpClient for the broker's HTTP proxy (REST v2) in tests: exact Accept / Content-Type headers (null =
/// absent), answers as (status, media type, body), and helpers that read a partition through the proxy.
/// </summary>
public sealed class ProxyRestClient : IDisposable
{
    public const string V2 = "application/vnd.kafka.v2+json";
    public const string Json = "application/vnd.kafka.json.v2+json";
    public const string Binary = "application/vnd.kafka.binary.v2+json";
    /// <summary>What axios sends when no Accept is given (Morio's GET /topics).</summary>
    public const string AxiosAccept = "application/json, text/plain, */*";

    private readonly HttpClient _http;
    private readonly BrokerProcess _broker;

    public ProxyRestClient(BrokerProcess broker)
    {
        _broker = broker;
        _http = new HttpClient { BaseAddress = new Uri(broker.ProxyUrl), Timeout = TimeSpan.FromSeconds(40) };
    }

    public sealed record Answer(HttpStatusCode Status, string? MediaType, string Body)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
    }

    public async Task<Answer> SendAsync(HttpMethod method, string path, string? body = null, string? contentType = null,
        string? accept = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null || contentType is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body ?? ""));
            if (contentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await _http.SendAsync(request);
        return new Answer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Sends and asserts the status; the failure message carries the body and the broker's state.</summary>
    public async Task<Answer> ExpectAsync(HttpStatusCode status, HttpMethod method, string path, string? body = null,
        string? contentType = null, string? accept = null)
    {
        var answer = await SendAsync(method, path, body, contentType, accept);
        Assert.True(answer.Status == status,
            $"{method} {path}: expected {(int)status}, got {(int)answer.Status}: {answer.Body}\n{_broker.DescribeState()}");
        return answer;
    }

    /// <summary>Asserts a REST proxy error: status and {"error_code","message"}.</summary>
    public async Task ExpectErrorAsync(HttpStatusCode status, int errorCode, HttpMethod method, string path, string? body = null,
        string? contentType = null, string? accept = null)
    {
        var answer = await ExpectAsync(status, method, path, body, contentType, accept);
        var json = answer.Json;
        Assert.Equal(errorCode, json.GetProperty("error_code").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("message").GetString()));
    }

    /// <summary>Reads <paramref name="count"/> records of a partition through GET .../records, from offset 0.</summary>
    public async Task<List<JsonElement>> ReadPartitionAsync(string topic, int partition, int count, string accept)
    {
        var records = new List<JsonElement>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (records.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {records.Count} of {count} records of {topic}-{partition} came back\n{_broker.DescribeState()}");
            var answer = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get,
                $"/topics/{topic}/partitions/{partition}/records?offset={records.Count}&timeout=500&max_bytes=1048576", accept: accept);
            Assert.Equal(accept, answer.MediaType);
            foreach (var record in answer.Json.EnumerateArray())
            {
                Assert.Equal(records.Count, record.GetProperty("offset").GetInt64());
                records.Add(record);
            }
        }
        return records;
    }

    public void Dispose() => _http.Dispose();
}
