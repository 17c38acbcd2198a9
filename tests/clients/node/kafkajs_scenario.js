#!/usr/bin/env node
'use strict'
/*
 * Real-client scenario with kafkajs (2.2.4) against a Kafka-compatible broker: admin API + produce.
 * kafkajs's consumer always joins a consumer group, which the broker does not offer yet, so what this script
 * produces is verified by another client: it writes the produced set (same JSON-lines format as
 * tests/clients/python/scenario_common.py) for `confluent_scenario.py verify --expected FILE`.
 *
 * Usage (after `npm ci` in this directory):
 *   node kafkajs_scenario.js --bootstrap 127.0.0.1:9092 --topic T [--partitions 3] [--count 200]
 *        [--codecs none,gzip,snappy,lz4 | all | available] [--expected-out FILE] [--timeout 60]
 *        [--no-create] [--skip-delete] [--skip-partitions] [--verbose]
 * Steps:
 *   1. createTopics validateOnly for T-validate -> the topic must not appear in listTopics;
 *   2. createTopics T-<codec> for each codec (waitForLeaders); creating the same topic again must return false;
 *   3. fetchTopicMetadata: partition count and a leader for every partition;
 *   4. produce --count keyed messages per codec (binary keys/values, headers incl. repeated names, explicit
 *      timestamps, explicit partition i % N, acks=-1) in several send() calls; offsets from the produce responses;
 *   5. fetchTopicOffsets: low 0 and high = messages per partition;
 *      fetchTopicOffsetsByTimestamp: before the first timestamp -> 0, after the last -> high;
 *   6. createPartitions: T-grow from 1 to 3 partitions, visible in metadata (unless --skip-partitions);
 *   7. deleteTopics: T-delete disappears from listTopics (unless --skip-delete).
 * Codecs: none and gzip are built in; snappy via kafkajs-snappy, lz4 via @2l/kafkajs-lz4 (when installed).
 * Output: one JSON summary line on stdout; logs on stderr. Exit 0 = all checks passed, 1 = failure, 2 = usage.
 * Every step is bounded by --timeout seconds and the whole run by 4x that.
 */

const fs = require('fs')

function parseArgs(argv) {
  const args = {
    bootstrap: null, topic: null, partitions: 3, count: 200, codecs: 'available', expectedOut: null,
    timeout: 60, create: true, deleteStep: true, partitionsStep: true, verbose: false,
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`)
      return argv[++i]
    }
    switch (a) {
      case '--bootstrap': args.bootstrap = next(); break
      case '--topic': args.topic = next(); break
      case '--partitions': args.partitions = parseInt(next(), 10); break
      case '--count': args.count = parseInt(next(), 10); break
      case '--codecs': args.codecs = next(); break
      case '--expected-out': args.expectedOut = next(); break
      case '--timeout': args.timeout = parseFloat(next()); break
      case '--no-create': args.create = false; break
      case '--skip-delete': args.deleteStep = false; break
      case '--skip-partitions': args.partitionsStep = false; break
      case '--verbose': args.verbose = true; break
      case '-h': case '--help': process.stdout.write(helpText()); process.exit(0); break
      default: usage(`unknown argument ${a}`)
    }
  }
  if (!args.bootstrap || !args.topic) usage('--bootstrap and --topic are required')
  if (!(args.partitions > 0) || !(args.count > 0) || !(args.timeout > 0)) usage('bad numeric argument')
  return args
}

function helpText() {
  const src = fs.readFileSync(__filename, 'utf8')
  const start = src.indexOf('/*')
  const end = src.indexOf('*/')
  return src.slice(start + 2, end).split('\n').map(l => l.replace(/^ \* ?/, '')).join('\n') + '\n'
}

function usage(msg) {
  process.stderr.write(`kafkajs_scenario: ${msg}\n${helpText()}`)
  process.exit(2)
}

function log(...parts) {
  process.stderr.write(`${new Date().toISOString()} ${parts.join(' ')}\n`)
}

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1' // explicit partitions are used; silence the v2 notice
let kafkajs
try {
  kafkajs = require('kafkajs')
} catch (e) {
  process.stderr.write(`kafkajs is not installed: run 'npm ci' in ${__dirname} (${e.message})\n`)
  process.exit(2)
}
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = kafkajs

const CODEC_TYPES = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4 }

function loadCodecs() {
  const available = ['none', 'gzip']
  const problems = {}
  try {
    CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy')
    available.push('snappy')
  } catch (e) { problems.snappy = e.message }
  try {
    const LZ4Codec = require('@2l/kafkajs-lz4').default || require('@2l/kafkajs-lz4')
    CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec
    available.push('lz4')
  } catch (e) { problems.lz4 = e.message }
  return { available, problems }
}

// Deterministic PRNG (mulberry32) so a run can be reproduced.
function rng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function randomBytes(rand, n) {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256)
  return b
}

function makeMessages(count, partitions, seed, baseTs) {
  const rand = rng(seed)
  const msgs = []
  for (let i = 0; i < count; i++) {
    let key = Buffer.concat([Buffer.from(`key-${String(i).padStart(6, '0')}-`), Buffer.from([0x00, 0xff, 0x80, 0xc3, 0x28, i % 256])])
    let value
    switch (i % 6) {
      case 0: value = Buffer.alloc(0); break
      case 1: value = randomBytes(rand, 1 + Math.floor(rand() * 300)); break
      case 2: value = Buffer.from(`repetitive-${i}-`.repeat(10 + Math.floor(rand() * 300))); break
      case 3: value = Buffer.concat([Buffer.from([0, 0, 0, 0xff, 0xfe, 0xe2, 0x82]), Buffer.from('\n\r\t')]); break
      case 4: value = randomBytes(rand, 1000 + Math.floor(rand() * 3000)); break
      default: value = Buffer.from(`ünïcødé-${i}-€`.repeat(3), 'utf8')
    }
    if (i === Math.floor(count / 2) && count > 10) value = Buffer.concat(Array(32).fill(randomBytes(rand, 2048)))
    if (i % 37 === 36) value = null
    if (i % 53 === 52) key = null
    const headers = {}
    if (i % 11 !== 0) {
      headers.h1 = i % 5 === 0 ? [Buffer.from([0, 0xff, i % 256]), Buffer.from('duplicate-name')] : Buffer.from([0, 0xff, i % 256])
      headers.trace = Buffer.from(`t-${i}`)
    }
    msgs.push({ key, value, headers, partition: i % partitions, timestamp: String(baseTs + i) })
  }
  return msgs
}

// Header list in the order kafkajs encodes it (object key order, arrays flattened).
function headerList(headers) {
  const out = []
  for (const k of Object.keys(headers)) {
    const v = headers[k]
    for (const item of Array.isArray(v) ? v : [v]) out.push([k, Buffer.from(item).toString('hex')])
  }
  return out
}

const hex = b => (b === null || b === undefined ? null : Buffer.from(b).toString('hex'))

function withTimeout(promise, seconds, what) {
  let timer
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${seconds}s`)), seconds * 1000)
    }),
  ]).finally(() => clearTimeout(timer))
}

async function waitUntil(predicate, seconds, what) {
  const end = Date.now() + seconds * 1000
  let last
  while (Date.now() < end) {
    try {
      last = await predicate()
      if (last === true) return
    } catch (e) { last = e.message }
    await new Promise(r => setTimeout(r, 200))
  }
  throw new Error(`${what}: condition not met within ${seconds}s (last: ${JSON.stringify(last)})`)
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  const { available, problems } = loadCodecs()
  let codecs
  if (args.codecs === 'available') codecs = available
  else if (args.codecs === 'all') codecs = Object.keys(CODEC_TYPES)
  else codecs = args.codecs.split(',').map(s => s.trim()).filter(Boolean)
  for (const c of codecs) {
    if (!(c in CODEC_TYPES)) usage(`unknown codec ${c}`)
    if (!available.includes(c)) throw new Error(`codec ${c} unavailable: ${problems[c] || 'not supported by kafkajs'}`)
  }

  const logCreator = () => ({ namespace, level, log: entry }) => {
    const { message, ...extra } = entry
    process.stderr.write(`${new Date().toISOString()} kafkajs[${namespace}] ${level} ${message} ${JSON.stringify(extra)}\n`)
  }
  const kafka = new Kafka({
    clientId: 'kafkajs-scenario', brokers: [args.bootstrap], connectionTimeout: 5000, requestTimeout: 15000,
    logLevel: args.verbose ? logLevel.DEBUG : logLevel.WARN, logCreator,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 },
  })
  const T = args.timeout
  const summary = { scenario: 'admin-produce', client: 'kafkajs', version: require('kafkajs/package.json').version,
    codecs: {}, checks: 0, errors: [] }
  const check = (ok, what) => {
    summary.checks++
    if (ok) return
    if (summary.errors.length < 20) summary.errors.push(what)
    log('CHECK FAILED:', what)
  }
  const admin = kafka.admin()
  await withTimeout(admin.connect(), T, 'admin.connect')
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false, maxInFlightRequests: 1 })
  await withTimeout(producer.connect(), T, 'producer.connect')
  const expected = []
  try {
    const topicOf = c => (codecs.length > 1 ? `${args.topic}-${c}` : args.topic)
    if (args.create) {
      // 1. validateOnly must not create anything.
      const vTopic = `${args.topic}-validate`
      await withTimeout(admin.createTopics({ validateOnly: true, waitForLeaders: false,
        topics: [{ topic: vTopic, numPartitions: args.partitions, replicationFactor: 1 }] }), T, 'createTopics validateOnly')
      const listed = await withTimeout(admin.listTopics(), T, 'listTopics')
      check(!listed.includes(vTopic), `validateOnly createTopics did not create ${vTopic}`)
      // 2. real creation, then a repeat returns false (TOPIC_ALREADY_EXISTS).
      const created = await withTimeout(admin.createTopics({ waitForLeaders: true, timeout: T * 1000,
        topics: codecs.map(c => ({ topic: topicOf(c), numPartitions: args.partitions, replicationFactor: 1 })) }),
      T, 'createTopics')
      check(created === true, `createTopics returned ${created} for new topics (expected true)`)
      const again = await withTimeout(admin.createTopics({ waitForLeaders: false,
        topics: [{ topic: topicOf(codecs[0]), numPartitions: args.partitions, replicationFactor: 1 }] }),
      T, 'createTopics again')
      check(again === false, `createTopics of an existing topic returned ${again} (expected false)`)
    }
    // 3. metadata
    await waitUntil(async () => {
      const md = await admin.fetchTopicMetadata({ topics: codecs.map(topicOf) })
      const bad = md.topics.filter(t => t.partitions.length !== args.partitions ||
        t.partitions.some(p => p.leader < 0 || p.partitionErrorCode !== 0))
      return bad.length === 0 ? true : bad.map(t => ({ name: t.name, partitions: t.partitions }))
    }, T, 'fetchTopicMetadata shows all partitions with leaders')
    check(true, 'fetchTopicMetadata')

    // 4. produce per codec
    const baseTs = Date.now() - 120000
    for (const codec of codecs) {
      const topic = topicOf(codec)
      const msgs = makeMessages(args.count, args.partitions, 1000 + codecs.indexOf(codec), baseTs)
      const perPartitionCount = Array(args.partitions).fill(0)
      for (let start = 0; start < msgs.length; start += 50) {
        const chunk = msgs.slice(start, start + 50)
        const res = await withTimeout(producer.send({ topic, acks: -1, timeout: 30000,
          compression: CODEC_TYPES[codec], messages: chunk }), T, `send ${topic}`)
        const base = {}
        for (const r of res) {
          check(r.errorCode === 0, `produce ${topic}[${r.partition}] errorCode ${r.errorCode}`)
          base[r.partition] = BigInt(r.baseOffset)
        }
        const seen = {}
        for (const m of chunk) {
          if (base[m.partition] === undefined) {
            check(false, `no produce result for ${topic}[${m.partition}]`)
            continue
          }
          const k = seen[m.partition] || 0
          seen[m.partition] = k + 1
          const offset = base[m.partition] + BigInt(k)
          check(!args.create || offset === BigInt(perPartitionCount[m.partition]),
            `${topic}[${m.partition}] offset ${offset} expected ${perPartitionCount[m.partition]}`)
          perPartitionCount[m.partition]++
          expected.push({ t: topic, p: m.partition, o: Number(offset), k: hex(m.key), v: hex(m.value),
            h: headerList(m.headers), ts: Number(m.timestamp) })
        }
      }
      // 5. offsets
      const offsets = await withTimeout(admin.fetchTopicOffsets(topic), T, 'fetchTopicOffsets')
      for (const o of offsets) {
        check(!args.create || o.low === '0' && o.high === String(perPartitionCount[o.partition]),
          `fetchTopicOffsets ${topic}[${o.partition}] low=${o.low} high=${o.high} expected 0/${perPartitionCount[o.partition]}`)
      }
      check(offsets.length === args.partitions, `fetchTopicOffsets returned ${offsets.length} partitions`)
      const before = await withTimeout(admin.fetchTopicOffsetsByTimestamp(topic, baseTs - 1000), T, 'byTimestamp')
      for (const o of before) check(!args.create || o.offset === '0', `offset by timestamp before first ${topic}[${o.partition}] = ${o.offset}, expected 0`)
      const after = await withTimeout(admin.fetchTopicOffsetsByTimestamp(topic, baseTs + args.count + 1000), T, 'byTimestamp')
      for (const o of after) {
        check(o.offset === String(perPartitionCount[o.partition]),
          `offset by timestamp after last ${topic}[${o.partition}] = ${o.offset}, expected ${perPartitionCount[o.partition]}`)
      }
      summary.codecs[codec] = { topic, produced: msgs.length }
      log(`${codec}: produced ${msgs.length} to ${topic}`)
    }

    // 6. createPartitions
    if (args.create && args.partitionsStep) {
      const grow = `${args.topic}-grow`
      await withTimeout(admin.createTopics({ waitForLeaders: true, topics: [{ topic: grow, numPartitions: 1, replicationFactor: 1 }] }), T, 'createTopics grow')
      await withTimeout(admin.createPartitions({ topicPartitions: [{ topic: grow, count: 3 }] }), T, 'createPartitions')
      await waitUntil(async () => {
        const md = await admin.fetchTopicMetadata({ topics: [grow] })
        const parts = md.topics[0].partitions
        return parts.length === 3 && parts.every(p => p.leader >= 0) ? true : parts
      }, T, `${grow} has 3 partitions after createPartitions`)
      check(true, 'createPartitions')
    }
    // 7. deleteTopics
    if (args.create && args.deleteStep) {
      const del = `${args.topic}-delete`
      await withTimeout(admin.createTopics({ waitForLeaders: true, topics: [{ topic: del, numPartitions: 1, replicationFactor: 1 }] }), T, 'createTopics delete')
      await withTimeout(producer.send({ topic: del, acks: -1, messages: [{ key: 'k', value: 'v' }] }), T, 'send to doomed topic')
      await withTimeout(admin.deleteTopics({ topics: [del], timeout: T * 1000 }), T, 'deleteTopics')
      await waitUntil(async () => !(await admin.listTopics()).includes(del), T, `${del} gone after deleteTopics`)
      check(true, 'deleteTopics')
    }
  } finally {
    await producer.disconnect().catch(() => {})
    await admin.disconnect().catch(() => {})
  }
  if (args.expectedOut) {
    fs.writeFileSync(args.expectedOut, expected.map(r => JSON.stringify(r)).join('\n') + '\n')
  }
  summary.produced = expected.length
  summary.skipped = Object.keys(CODEC_TYPES).filter(c => !codecs.includes(c))
  summary.ok = summary.errors.length === 0
  return summary
}

const overall = setTimeout(() => {
  process.stdout.write(JSON.stringify({ scenario: 'admin-produce', client: 'kafkajs', ok: false,
    errors: ['overall deadline exceeded'] }) + '\n')
  process.exit(1)
}, 4 * 1000 * (parseFloat((process.argv.find((a, i) => process.argv[i - 1] === '--timeout')) || '60') || 60))
overall.unref()

main().then(summary => {
  process.stdout.write(JSON.stringify(summary) + '\n')
  process.exit(summary.ok ? 0 : 1)
}).catch(e => {
  log('ERROR:', e && e.stack ? e.stack : String(e))
  process.stdout.write(JSON.stringify({ scenario: 'admin-produce', client: 'kafkajs', ok: false,
    errors: [String(e && e.message ? e.message : e)] }) + '\n')
  process.exit(1)
})
