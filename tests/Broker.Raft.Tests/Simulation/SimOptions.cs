namespace Broker.Raft.Tests.Simulation;

/// <summary>Fault rates and timers of one simulated cluster.</summary>
public sealed class SimOptions
{
    public int ElectionTicks { get; init; } = 10;
    public int HeartbeatTicks { get; init; } = 2;
    public int MinDelay { get; init; } = 1;
    public int MaxDelay { get; init; } = 3;
    public double DropRate { get; init; }
    public double DuplicateRate { get; init; }
    /// <summary>Pass every message through the binary codec (encode + decode).</summary>
    public bool UseCodec { get; init; } = true;
    public int MaxEntriesPerMessage { get; init; } = 8;
    public bool PreVote { get; init; } = true;
    public bool CheckQuorum { get; init; } = true;

    public static SimOptions Reliable => new();
}

/// <summary>A safety or liveness property was violated.</summary>
public sealed class SimViolation(string message) : Exception(message);
