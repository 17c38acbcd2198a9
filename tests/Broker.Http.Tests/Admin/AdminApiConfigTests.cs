using System.Net;
using Broker.Core.Model;
using Broker.Http.Admin;
using Xunit;

namespace Broker.Http.Tests.Admin;

/// <summary>GET/PUT /v1/cluster_config over real HTTP: typed values, filters, the patch reaching the backend, and every
/// refusal (content type, JSON, shape, size, backend validation, unavailable).</summary>
public sealed class AdminApiConfigTests : AdminServerTest
{
    public AdminApiConfigTests() => MaxBodyBytes = 1024;

    [Fact]
    public async Task Get_IncludesDefaultsByDefault_TypedValues()
    {
        var r = await GetAsync("/v1/cluster_config");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(
            """{"auto.create.topics.enable":true,"compression.type":"producer","log.cleaner.min.cleanable.ratio":0.5,"log.cleanup.policy":"delete,compact","log.flush.interval.ms":null,"log.retention.ms":3600000}""",
            r.Body.GetRawText());
    }

    [Fact]
    public async Task Get_WithoutDefaults_AndOneKey()
    {
        Assert.Equal("""{"log.retention.ms":3600000}""", (await GetAsync("/v1/cluster_config?include_defaults=false")).Body.GetRawText());
        Assert.Equal("""{"compression.type":"producer"}""", (await GetAsync("/v1/cluster_config?key=compression.type&include_defaults=false")).Body.GetRawText());
        AssertError(await GetAsync("/v1/cluster_config?key=no.such.key"), HttpStatusCode.NotFound, "unknown cluster property 'no.such.key'");
        AssertError(await GetAsync("/v1/cluster_config?include_defaults=maybe"), HttpStatusCode.BadRequest, "include_defaults must be true or false");
    }

    [Fact]
    public async Task Put_PassesThePatch_AnswersTheConfigVersion()
    {
        var r = await SendAsync(HttpMethod.Put, "/v1/cluster_config", """{"upsert":{"log.retention.ms":1000,"auto.create.topics.enable":false},"remove":["compression.type"]}""");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("""{"config_version":42}""", r.Body.GetRawText());
        var (upsert, remove, dryRun) = Backend.LastWrite!.Value;
        Assert.Equal("1000", upsert["log.retention.ms"]);
        Assert.Equal("false", upsert["auto.create.topics.enable"]);
        Assert.Equal(["compression.type"], remove);
        Assert.False(dryRun);
    }

    [Fact]
    public async Task Put_DryRun_AndCharsetAndNoContentType_AreAccepted()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Put, "/v1/cluster_config?dry_run=true", """{"remove":["a"]}""", "application/json; charset=utf-8")).Status);
        Assert.True(Backend.LastWrite!.Value.DryRun);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Put, "/v1/cluster_config", """{"remove":["a"]}""", null)).Status);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/xml")]
    public async Task Put_WrongContentType_Is415(string contentType)
    {
        AssertError(await SendAsync(HttpMethod.Put, "/v1/cluster_config", """{"remove":["a"]}""", contentType),
            HttpStatusCode.UnsupportedMediaType, "content type must be application/json");
        Assert.Null(Backend.LastWrite);
    }

    [Theory]
    [InlineData("", "not valid JSON")]
    [InlineData("{", "not valid JSON")]
    [InlineData("{\"upsert\": {\"a\": 1,}}", "not valid JSON")]
    [InlineData("null", "must be a JSON object")]
    [InlineData("""{"upsert":{"a":{"nested":true}}}""", "value of 'a' must be")]
    [InlineData("""{"bogus":1}""", "unknown field 'bogus'")]
    public async Task Put_BadBody_Is400(string body, string fragment)
    {
        AssertError(await SendAsync(HttpMethod.Put, "/v1/cluster_config", body), HttpStatusCode.BadRequest, fragment);
        Assert.Null(Backend.LastWrite);
    }

    [Fact]
    public async Task Put_BodyOverTheLimit_Is413()
    {
        string body = "{\"upsert\":{\"a\":\"" + new string('x', 4096) + "\"}}";
        AssertError(await SendAsync(HttpMethod.Put, "/v1/cluster_config", body), HttpStatusCode.RequestEntityTooLarge, "larger than 1024 bytes");
        Assert.Null(Backend.LastWrite);
    }

    [Theory]
    [InlineData(ErrorCode.InvalidConfig, HttpStatusCode.BadRequest)]
    [InlineData(ErrorCode.InvalidRequest, HttpStatusCode.BadRequest)]
    [InlineData(ErrorCode.NotController, HttpStatusCode.ServiceUnavailable)]
    [InlineData(ErrorCode.RequestTimedOut, HttpStatusCode.ServiceUnavailable)]
    [InlineData(ErrorCode.UnknownServerError, HttpStatusCode.InternalServerError)]
    public async Task Put_RefusedByTheBackend_CarriesItsMessage(ErrorCode error, HttpStatusCode status)
    {
        Backend.NextWrite = new ClusterConfigWrite(error, "unknown property 'x.y'", -1);
        AssertError(await SendAsync(HttpMethod.Put, "/v1/cluster_config", """{"upsert":{"x.y":1}}"""), status, "unknown property 'x.y'");
    }

    [Fact]
    public async Task Unavailable_Is503ForGetAndPut()
    {
        Backend.ClusterConfigAvailable = false;
        AssertError(await GetAsync("/v1/cluster_config"), HttpStatusCode.ServiceUnavailable, "not available");
        AssertError(await SendAsync(HttpMethod.Put, "/v1/cluster_config", """{"remove":["a"]}"""), HttpStatusCode.ServiceUnavailable, "not available");
        // Client mistakes are still reported as such.
        AssertError(await SendAsync(HttpMethod.Put, "/v1/cluster_config", "{"), HttpStatusCode.BadRequest, "not valid JSON");
        AssertError(await SendAsync(HttpMethod.Put, "/v1/cluster_config", "{}", "text/plain"), HttpStatusCode.UnsupportedMediaType, "content type");
    }
}
