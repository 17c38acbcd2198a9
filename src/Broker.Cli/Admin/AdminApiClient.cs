using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.Json;
using Broker.Cli.Commands;

namespace Broker.Cli.Admin;

/// <summary>
/// A minimal client of the Redpanda-style Admin API: GET a path from the first of several base URLs that answers and
/// parse the body with <see cref="JsonDocument"/> (no reflection). Failures are worded for the operator
/// ("connection refused", "no answer within 5 s", "HTTP 503: ..."), one per URL tried.
/// </summary>
internal sealed class AdminApiClient : IDisposable
{
    private readonly IReadOnlyList<string> _baseUrls;
    private readonly TimeSpan _timeout;
    private readonly HttpClient _http;

    public AdminApiClient(IReadOnlyList<string> baseUrls, TimeSpan timeout)
    {
        if (baseUrls.Count == 0) throw new ArgumentException("at least one Admin API URL is needed", nameof(baseUrls));
        _baseUrls = baseUrls;
        _timeout = timeout;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = timeout,
            UseProxy = false,
            AllowAutoRedirect = true,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The URL that answered last (for verbose output).</summary>
    public string? AnsweredBy { get; private set; }

    /// <summary>
    /// GETs <paramref name="path"/> (e.g. "/v1/cluster/health_overview") from each base URL in turn until one answers
    /// 2xx with JSON. Throws <see cref="ToolFailure"/> describing every failure when none does.
    /// </summary>
    public async Task<JsonDocument> GetJsonAsync(string path, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        foreach (string baseUrl in _baseUrls)
        {
            string url = baseUrl + path;
            string? problem;
            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                attempt.CancelAfter(_timeout);
                try
                {
                    using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseContentRead, attempt.Token).ConfigureAwait(false);
                    string body = await response.Content.ReadAsStringAsync(attempt.Token).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                    {
                        try
                        {
                            var doc = JsonDocument.Parse(body);
                            AnsweredBy = baseUrl;
                            return doc;
                        }
                        catch (JsonException)
                        {
                            problem = "the answer is not JSON";
                        }
                    }
                    else problem = HttpProblem(response.StatusCode, body);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    problem = $"no answer within {ToolContext.Describe(_timeout)}";
                }
                catch (HttpRequestException ex)
                {
                    problem = Describe(ex);
                }
            }
            problems.Add($"{url}: {problem}");
        }
        throw new ToolFailure(problems.Count == 1
            ? $"cannot reach the Admin API at {problems[0]}"
            : "cannot reach the Admin API:\n  " + string.Join("\n  ", problems));
    }

    /// <summary>"HTTP 404: message" using the Admin API's {"message", "code"} error body when there is one.</summary>
    internal static string HttpProblem(HttpStatusCode status, string body)
    {
        string text = $"HTTP {(int)status}";
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                return $"{text}: {m.GetString()}";
        }
        catch (JsonException)
        {
            // not a JSON error body
        }
        string trimmed = body.Trim();
        return trimmed.Length == 0 ? text : $"{text}: {(trimmed.Length > 200 ? trimmed[..200] + "..." : trimmed)}";
    }

    /// <summary>Why a request failed, in words (exception messages are resource keys in the AOT binary).</summary>
    internal static string Describe(HttpRequestException ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException se)
            {
                return se.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => "host not found",
                    SocketError.TimedOut => "connection timed out",
                    SocketError.HostUnreachable or SocketError.NetworkUnreachable => "host unreachable",
                    SocketError.ConnectionReset => "connection reset",
                    _ => $"socket error {se.SocketErrorCode}",
                };
            }
        }
        return ex.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "host not found",
            HttpRequestError.ConnectionError => "connection failed",
            HttpRequestError.SecureConnectionError => "TLS handshake failed",
            HttpRequestError.ResponseEnded => "the connection closed before an answer",
            HttpRequestError.InvalidResponse => "the answer is not valid HTTP",
            _ => $"request failed ({ex.HttpRequestError})",
        };
    }

    public void Dispose() => _http.Dispose();
}
