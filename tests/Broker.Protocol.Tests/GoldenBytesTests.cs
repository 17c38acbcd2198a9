using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Protocol.Tests;

/// <summary>Encodings worked out by hand from the protocol rules (big-endian ints, int16/compact strings, ...).</summary>
public class GoldenBytesTests
{
    [Fact]
    public void MetadataRequestV0()
    {
        var request = new MetadataRequest { Topics = [new MetadataRequest.MetadataRequestTopic { Name = "ab" }] };
        // array count int32 = 1, string int16 length 2, "ab"
        Assert.Equal(new byte[] { 0, 0, 0, 1, 0, 2, (byte)'a', (byte)'b' }, Codec.Encode(request, 0));
    }

    [Fact]
    public void MetadataRequestV9IsFlexible()
    {
        var request = new MetadataRequest
        {
            Topics = [new MetadataRequest.MetadataRequestTopic { Name = "ab" }],
            AllowAutoTopicCreation = true,
        };
        // compact array (n+1 = 2), compact string (len+1 = 3) "ab", topic tagged fields 0,
        // allow_auto_topic_creation 1, include_cluster_authorized_operations 0 (v8-10),
        // include_topic_authorized_operations 0, top-level tagged fields 0.
        Assert.Equal(new byte[] { 2, 3, (byte)'a', (byte)'b', 0, 1, 0, 0, 0 }, Codec.Encode(request, 9));
    }

    [Fact]
    public void NullTopicListIsMinusOneBeforeFlexibleAndZeroAfter()
    {
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 1 }, Codec.Encode(new MetadataRequest { Topics = null, AllowAutoTopicCreation = true }, 4));
        Assert.Equal(new byte[] { 0, 1, 0, 0, 0 }, Codec.Encode(new MetadataRequest { Topics = null, AllowAutoTopicCreation = true }, 9));
    }

    [Fact]
    public void RequestHeaderV1AndV2()
    {
        using var w1 = new Broker.Core.Buffers.ChunkedBufferWriter();
        var kw = new KafkaWriter(w1);
        new RequestHeader(3, 4, 0x01020304, "c").Write(ref kw); // Metadata v4: header v1
        Assert.Equal(new byte[] { 0, 3, 0, 4, 1, 2, 3, 4, 0, 1, (byte)'c' }, w1.ToArray()[4..]);

        using var w2 = new Broker.Core.Buffers.ChunkedBufferWriter();
        kw = new KafkaWriter(w2);
        new RequestHeader(3, 9, 7, null).Write(ref kw); // Metadata v9: header v2 (null client id keeps int16 -1)
        Assert.Equal(new byte[] { 0, 3, 0, 9, 0, 0, 0, 7, 0xFF, 0xFF, 0 }, w2.ToArray()[4..]);

        var reader = new KafkaReader(w2.ToArray()[4..]);
        var back = RequestHeader.Read(ref reader);
        Assert.Equal(new RequestHeader(3, 9, 7, null), back);
        Assert.True(reader.IsAtEnd);
    }

    [Fact]
    public void TaggedFieldIsWrittenOnlyWhenNotDefault()
    {
        var plain = new ApiVersionsResponse { ErrorCode = 0 };
        var withEpoch = new ApiVersionsResponse { ErrorCode = 0, FinalizedFeaturesEpoch = 5 };
        var a = Codec.Encode(plain, 3);
        var b = Codec.Encode(withEpoch, 3);
        // error 0,0; empty compact array 1; throttle 0,0,0,0; no tags 0
        Assert.Equal(new byte[] { 0, 0, 1, 0, 0, 0, 0, 0 }, a);
        // one tag: tag 1, size 8, int64 5
        Assert.Equal(new byte[] { 0, 0, 1, 0, 0, 0, 0, 1, 1, 8, 0, 0, 0, 0, 0, 0, 0, 5 }, b);
        Assert.Equal(5, Codec.Decode(b, 3, ApiVersionsResponse.Read).FinalizedFeaturesEpoch);
    }

    [Fact]
    public void UnknownTaggedFieldsAreSkipped()
    {
        // ApiVersionsRequest v3 with two empty strings and an unknown tag 9 of 3 bytes.
        var bytes = new byte[] { 1, 1, 1, 9, 3, 0xAA, 0xBB, 0xCC };
        var r = Codec.Decode(bytes, 3, ApiVersionsRequest.Read);
        Assert.Equal("", r.ClientSoftwareName);
    }

    [Fact]
    public void TruncatedAndHostileInputsThrowProtocolErrors()
    {
        Assert.Throws<KafkaProtocolException>(() => Codec.Decode(new byte[] { 0, 0, 0, 1, 0, 5, (byte)'a' }, 0, MetadataRequest.Read));
        // array count far larger than the bytes left: rejected before allocating
        Assert.Throws<KafkaProtocolException>(() => Codec.Decode(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF }, 0, MetadataRequest.Read));
        // negative string length other than -1
        Assert.Throws<KafkaProtocolException>(() => Codec.Decode(new byte[] { 0, 0, 0, 1, 0xFF, 0xFE }, 0, MetadataRequest.Read));
        // over-long varint
        Assert.Throws<KafkaProtocolException>(() => Codec.Decode(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, 9, MetadataRequest.Read));
    }
}
