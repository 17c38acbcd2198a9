using System.Diagnostics;
using Broker.Cluster.Transport;
using static Broker.Cluster.Tests.ClusterTestKit;

namespace Broker.Cluster.Tests;

public sealed class RaftPeerTransportFailureTests
{
    [Fact]
    public async Task A_down_peer_never_blocks_Send_queues_bounded_and_delivery_resumes_once_it_starts()
    {
        var directory = new PeerDirectory();
        var options = FastOptions with { QueueCapacityPerPeer = 100 };
        await using var a = new TestNode(1, directory, options).StartListener();
        int port = ReservePort();
        directory.Set(2, "127.0.0.1", port);

        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 10_000; i++) a.Transport.Send(Group(0), Numbered(1, 2, i));
        Assert.True(sw.ElapsedMilliseconds < 1000, $"10000 sends to a down peer took {sw.ElapsedMilliseconds} ms");
        Assert.True(a.Transport.QueuedFor(2) <= 100);
        Assert.True(a.Transport.MessagesDroppedQueueFull >= 9_900, $"dropped {a.Transport.MessagesDroppedQueueFull}");
        Assert.True(await WaitUntilAsync(() => a.Transport.ConnectFailures >= 2), "keeps retrying the connect");
        Assert.Equal(0, a.Transport.MessagesSent);

        await using var b = new TestNode(2, directory);
        var inbox = new Inbox();
        b.Transport.Subscribe(Group(0), inbox.Add);
        b.StartListener(port);

        // Drop-oldest keeps the newest messages: the last one sent arrives after reconnecting.
        Assert.True(await WaitUntilAsync(() => inbox.SequencesFrom(1).Contains(9_999)), "the queued tail is delivered");
        long[] firstBurst = inbox.SequencesFrom(1);
        Assert.True(firstBurst.Length <= 100, $"{firstBurst.Length} delivered from a queue of 100");
        AssertStrictlyIncreasing(firstBurst);
        for (int i = 10_000; i < 10_010; i++) a.Transport.Send(Group(0), Numbered(1, 2, i));
        Assert.True(await WaitUntilAsync(() => inbox.SequencesFrom(1).Contains(10_009)));
        AssertStrictlyIncreasing(inbox.SequencesFrom(1));
        Assert.Equal(1, a.Transport.Connects);
    }

    [Fact]
    public async Task A_peer_restarting_mid_stream_is_reconnected_and_delivery_resumes_in_order()
    {
        var directory = new PeerDirectory();
        await using var a = new TestNode(1, directory).StartListener();
        await using var b = new TestNode(2, directory).StartListener();
        var inbox = new Inbox();
        b.Transport.Subscribe(Group(0), inbox.Add);

        using var stop = new CancellationTokenSource();
        long sent = 0;
        Task stream = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                a.Transport.Send(Group(0), Numbered(1, 2, Interlocked.Increment(ref sent)));
                await Task.Delay(2);
            }
        });
        try
        {
            Assert.True(await WaitUntilAsync(() => inbox.Count >= 50));
            await b.StopListenerAsync();
            long sentWhileDown = Interlocked.Read(ref sent);
            await Task.Delay(300);
            b.StartListener(b.Port);

            Assert.True(await WaitUntilAsync(() => inbox.Snapshot().Any(m => ((Broker.Raft.Messages.AppendRequest)m).Commit > sentWhileDown + 50)),
                "delivery resumes after the restart");
        }
        finally
        {
            stop.Cancel();
            await stream;
        }
        AssertStrictlyIncreasing(inbox.SequencesFrom(1));
        Assert.True(a.Transport.ConnectionsLost >= 1, "the broken connection was noticed");
        Assert.True(a.Transport.Connects >= 2, "and replaced");
    }

    [Fact]
    public async Task A_peer_that_accepts_but_never_acks_is_timed_out_and_reconnected()
    {
        var directory = new PeerDirectory();
        var options = FastOptions with { RequestTimeout = TimeSpan.FromMilliseconds(300), MaxInFlightEnvelopes = 1 };
        await using var a = new TestNode(1, directory, options);
        var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<System.Net.Sockets.TcpClient>();
        Task acceptLoop = Task.Run(async () =>
        {
            try { while (true) accepted.Add(await silent.AcceptTcpClientAsync()); }
            catch (Exception ex) when (ex is ObjectDisposedException or System.Net.Sockets.SocketException) { }
        });
        try
        {
            directory.Set(2, "127.0.0.1", ((System.Net.IPEndPoint)silent.LocalEndpoint).Port);
            var sw = Stopwatch.StartNew();
            while (a.Transport.ConnectionsLost < 1 && sw.ElapsedMilliseconds < 5000)
            {
                a.Transport.Send(Group(0), Numbered(1, 2, sw.ElapsedMilliseconds));
                await Task.Delay(20);
            }
            Assert.True(a.Transport.ConnectionsLost >= 1, "an unanswered envelope breaks the connection");
            Assert.True(await WaitUntilAsync(() => a.Transport.Connects >= 2), "and a new one is opened");
            Assert.Equal(0, a.Transport.EnvelopesAcked);
        }
        finally
        {
            silent.Stop();
            await acceptLoop;
            foreach (var c in accepted) c.Dispose();
        }
    }

    [Fact]
    public async Task A_peer_added_to_the_directory_later_gets_the_queued_messages()
    {
        var directory = new PeerDirectory();
        await using var a = new TestNode(1, directory).StartListener();
        for (int i = 0; i < 5; i++) a.Transport.Send(Group(1), Numbered(1, 2, i));
        Assert.True(await WaitUntilAsync(() => a.Transport.ConnectFailures >= 1));
        Assert.Equal(5, a.Transport.QueuedFor(2));

        await using var b = new TestNode(2, directory);
        var inbox = new Inbox();
        b.Transport.Subscribe(Group(1), inbox.Add);
        b.StartListener(); // publishes its address
        Assert.True(await WaitUntilAsync(() => inbox.Count == 5));
        Assert.Equal([0L, 1, 2, 3, 4], inbox.SequencesFrom(1));
    }
}
