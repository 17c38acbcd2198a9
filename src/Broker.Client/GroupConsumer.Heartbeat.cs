using Broker.Client.Consumer;
using Broker.Core.Model;
using Broker.Protocol.Messages;

namespace Broker.Client;

// Staying in the group: the background heartbeat loop, what membership errors mean (from heartbeats and commits),
// and LeaveGroup on dispose.
public sealed partial class GroupConsumer
{
    private static readonly TimeSpan LeaveTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Every HeartbeatInterval while the member is in a stable generation: Heartbeat to the coordinator (found again
    /// when it moved). REBALANCE_IN_PROGRESS → the next poll rejoins; UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION → the
    /// membership is reset and the next poll rejoins; FENCED_INSTANCE_ID → the next poll throws.
    /// </summary>
    private async Task HeartbeatLoopAsync()
    {
        var token = _lifetime.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                await Task.Delay(_options.HeartbeatInterval, token).ConfigureAwait(false);
                int generation;
                string memberId;
                lock (_stateLock)
                {
                    if (!_stable) continue;
                    generation = _generationId;
                    memberId = _memberId;
                }
                ErrorCode error;
                try
                {
                    var response = await _client.SendToGroupCoordinatorAsync(GroupId, HeartbeatRequest.ApiKey, 0, HeartbeatRequest.HighestVersion,
                        _ => new HeartbeatRequest
                        {
                            GroupId = GroupId,
                            GenerationId = generation,
                            MemberId = memberId,
                            GroupInstanceId = _options.GroupInstanceId,
                        },
                        HeartbeatResponse.Read, r => (ErrorCode)r.ErrorCode, token).ConfigureAwait(false);
                    error = (ErrorCode)response.ErrorCode;
                }
                catch (KafkaException ex)
                {
                    Logger.Debug($"{Who}: heartbeat failed: {ex.Message}");
                    continue;
                }
                if (error != ErrorCode.None) OnMembershipError(error, generation, memberId, "Heartbeat");
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>What a membership error answered for (generation, member) means, unless the membership has moved on since.</summary>
    private void OnMembershipError(ErrorCode error, int generation, string memberId, string what)
    {
        lock (_stateLock)
        {
            if (generation != _generationId || memberId != _memberId) return;
            switch (error)
            {
                case ErrorCode.RebalanceInProgress:
                    _rejoinNeeded = true;
                    break;
                case ErrorCode.IllegalGeneration:
                    _rejoinNeeded = true;
                    _stable = false;
                    _generationId = -1;
                    break;
                case ErrorCode.UnknownMemberId:
                    _rejoinNeeded = true;
                    _stable = false;
                    _generationId = -1;
                    _memberId = "";
                    break;
                case ErrorCode.FencedInstanceId:
                    _stable = false;
                    _fatal = new KafkaException(error,
                        $"group '{GroupId}': another member joined with group.instance.id '{_options.GroupInstanceId}' (this one is fenced)");
                    break;
                default:
                    Logger.Debug($"{Who}: {what}: {error}");
                    return;
            }
        }
        Logger.Debug($"{Who}: {what} answered {error} for generation {generation}; rejoining on the next poll");
    }

    /// <summary>LeaveGroup for a dynamic member (a static member stays until its session times out, as in Kafka).</summary>
    private async Task LeaveGroupAsync()
    {
        string memberId;
        lock (_stateLock)
        {
            memberId = _memberId;
            _stable = false;
            _memberId = "";
            _generationId = -1;
        }
        if (memberId.Length == 0 || _options.GroupInstanceId is not null) return;
        using var timeout = new CancellationTokenSource(LeaveTimeout);
        try
        {
            var response = await _client.SendToGroupCoordinatorAsync(GroupId, LeaveGroupRequest.ApiKey, 0, LeaveGroupRequest.HighestVersion,
                v => v >= 3
                    ? new LeaveGroupRequest
                    {
                        GroupId = GroupId,
                        Members = new() { new LeaveGroupRequest.MemberIdentity { MemberId = memberId, Reason = "the consumer is closing" } },
                    }
                    : new LeaveGroupRequest { GroupId = GroupId, MemberId = memberId },
                LeaveGroupResponse.Read, r => (ErrorCode)r.ErrorCode, timeout.Token).ConfigureAwait(false);
            var error = (ErrorCode)response.ErrorCode;
            foreach (var m in response.Members)
                if (error == ErrorCode.None && m.MemberId == memberId) error = (ErrorCode)m.ErrorCode;
            if (error != ErrorCode.None) Logger.Debug($"{Who}: LeaveGroup of {memberId}: {error}");
        }
        catch (Exception ex) when (ex is KafkaException or OperationCanceledException)
        {
            Logger.Debug($"{Who}: LeaveGroup of {memberId} failed: {ex.Message}");
        }
    }
}
