using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Broker.Cli.Tests;

/// <summary>
/// A tiny HTTP/1.1 server on a real loopback socket that answers every request with one canned response (status,
/// body) and records the request lines; or, with <c>silent</c>, accepts connections and never answers.
/// </summary>
internal sealed class FakeHttpServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _held = new();
    private readonly Task _loop;

    public FakeHttpServer(int status, string body, bool silent = false)
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Status = status;
        Body = body;
        Silent = silent;
        _loop = Task.Run(AcceptLoopAsync);
    }

    public int Status { get; set; }
    public string Body { get; set; }
    public bool Silent { get; }
    public List<string> RequestLines { get; } = new();
    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }
            if (Silent)
            {
                lock (_held) _held.Add(client);
                continue;
            }
            _ = Task.Run(() => AnswerAsync(client));
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var request = new StringBuilder();
            var buffer = new byte[4096];
            while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                int n = await stream.ReadAsync(buffer, _stop.Token);
                if (n == 0) return;
                request.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
            lock (RequestLines) RequestLines.Add(request.ToString().Split("\r\n")[0]);
            byte[] body = Encoding.UTF8.GetBytes(Body);
            string head = $"HTTP/1.1 {Status} X\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), _stop.Token);
            await stream.WriteAsync(body, _stop.Token);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_held)
            foreach (var c in _held) c.Dispose();
        try { _loop.Wait(TimeSpan.FromSeconds(2)); } catch (AggregateException) { }
    }
}
