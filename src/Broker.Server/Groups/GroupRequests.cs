using System.Net;
using Broker.Network;

namespace Broker.Server.Groups;

/// <summary>Small facts the group handlers share: Kafka's client-host format and group-id rules.</summary>
public static class GroupRequests
{
    /// <summary>Kafka's ClientHost: "/" + the client's IP address (Java's InetAddress.toString without a host name).</summary>
    public static string ClientHost(ConnectionContext connection)
    {
        if (connection.RemoteEndPoint is not IPEndPoint ip) return "/unknown";
        var address = ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address;
        return "/" + address;
    }

    /// <summary>Authorized operations of a group when a client asks (no authorizer: all Kafka defines for groups):
    /// READ 3, DELETE 6, DESCRIBE 8 (= 328).</summary>
    public const int AllGroupOperations = 1 << 3 | 1 << 6 | 1 << 8;

    /// <summary>
    /// Kafka refuses an empty group id (INVALID_GROUP_ID) for JoinGroup, SyncGroup, Heartbeat, LeaveGroup and
    /// OffsetDelete; OffsetCommit, OffsetFetch, DescribeGroups and DeleteGroups accept it (backwards compatibility:
    /// the empty group once stored offsets of consumers without a group).
    /// </summary>
    public static bool IsValidMembershipGroupId(string? groupId) => !string.IsNullOrEmpty(groupId);
}
