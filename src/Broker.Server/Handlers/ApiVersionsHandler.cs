// ApiVersions (key 18): v0-3.
// Behaviour:
// * Lists every registered handler with its advertised range (the table is the single source of truth).
// * An unsupported (newer) version gets a v0 response with UNSUPPORTED_VERSION and the full list, so clients
//   retry with a version we support (KIP-511). The dispatcher routes that case to UnsupportedVersionResponse.
// * The response header is always v0 (no tagged fields), even for v3; RequestHeader handles that.
// Version notes: v1 adds ThrottleTimeMs; v3 is flexible and carries ClientSoftwareName/Version (accepted, unused).
using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class ApiVersionsHandler(HandlerTable table) : KafkaHandler<ApiVersionsRequest>
{
    public override ApiKey Key => ApiKey.ApiVersions;
    public override short MinVersion => 0;
    public override short MaxVersion => 3;

    protected override ApiVersionsRequest Parse(ref KafkaReader reader, short version) =>
        ApiVersionsRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, ApiVersionsRequest request) =>
        new(Build(ErrorCode.None));

    public ApiVersionsResponse UnsupportedVersionResponse() => Build(ErrorCode.UnsupportedVersion);

    private ApiVersionsResponse Build(ErrorCode error)
    {
        var response = new ApiVersionsResponse { ErrorCode = (short)error };
        foreach (var h in table.All)
            response.ApiKeys.Add(new ApiVersionsResponse.ApiVersion
            {
                ApiKey = (short)h.Key,
                MinVersion = h.MinVersion,
                MaxVersion = h.MaxVersion,
            });
        return response;
    }
}
