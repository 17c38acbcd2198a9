#!/usr/bin/env node
'use strict'
/*
 * Consumer-group member for the group tests, kafkajs edition (the equivalent of
 * tests/clients/python/group_consumer.py, same event file format). Subscribes to one topic in a group and writes
 * every event to --events as one line, written synchronously before the next step:
 *
 *   START <ms> kafkajs <name> | SUBSCRIBE <ms> | ASSIGN <ms> <p,p,...|-> | M <ms> <partition> <offset> <id> |
 *   COMMIT <ms> <p>:<next>,... | COMMITFAIL <ms> <error> | ERROR <ms> <text> | STOP <ms>
 *
 * Offsets are committed by kafkajs itself (autoCommit, every --commit-interval-ms, and before rejoining when a
 * heartbeat reports a rebalance); each acknowledged commit is reported through the COMMIT_OFFSETS event. Messages
 * are written in eachBatch before kafkajs resolves (and later commits) them.
 *
 * Assignor: kafkajs's only built-in assignor is round robin under the protocol name "RoundRobinAssigner", which
 * librdkafka and kafka-python do not offer. --assignor roundrobin (the default) registers the same algorithm
 * under the standard name "roundrobin" (what librdkafka, kafka-python and the Java client call theirs), so kafkajs
 * can share a group with them; --assignor kafkajs keeps kafkajs's own name.
 *
 *   node group_consumer.js --bootstrap 127.0.0.1:9092 --group g --topic t --events e.txt [--name n]
 *        [--commit-interval-ms 500] [--session-timeout-ms 6000] [--heartbeat-ms 1000] [--duration 120]
 *
 * Runs until SIGTERM/SIGINT or --duration; then stops the consumer (final commit, LeaveGroup). Output: one JSON
 * summary line on stdout; logs on stderr. Exit 0 on a clean stop, 1 on a crash, 2 on a usage error.
 */

const fs = require('fs')

function parseArgs(argv) {
  const args = { bootstrap: null, group: null, topic: null, events: null, name: `kafkajs-${process.pid}`,
    commitIntervalMs: 500, sessionTimeoutMs: 6000, heartbeatMs: 1000, duration: 120, assignor: 'roundrobin',
    verbose: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`)
      return argv[++i]
    }
    switch (a) {
      case '--bootstrap': args.bootstrap = next(); break
      case '--group': args.group = next(); break
      case '--topic': args.topic = next(); break
      case '--events': args.events = next(); break
      case '--name': args.name = next(); break
      case '--commit-interval-ms': args.commitIntervalMs = parseInt(next(), 10); break
      case '--session-timeout-ms': args.sessionTimeoutMs = parseInt(next(), 10); break
      case '--heartbeat-ms': args.heartbeatMs = parseInt(next(), 10); break
      case '--duration': args.duration = parseFloat(next()); break
      case '--assignor': args.assignor = next(); break
      case '--verbose': args.verbose = true; break
      default: usage(`unknown argument ${a}`)
    }
  }
  if (!args.bootstrap || !args.group || !args.topic || !args.events) {
    usage('--bootstrap, --group, --topic and --events are required')
  }
  if (!(args.duration > 0) || !(args.commitIntervalMs >= 0) || !['roundrobin', 'kafkajs'].includes(args.assignor)) {
    usage('bad argument value')
  }
  return args
}

function usage(msg) {
  process.stderr.write(`group_consumer: ${msg}\n`)
  process.exit(2)
}

function log(...parts) {
  process.stderr.write(`${new Date().toISOString()} ${parts.join(' ')}\n`)
}

let kafkajs
try {
  kafkajs = require('kafkajs')
} catch (e) {
  process.stderr.write(`kafkajs not installed (run npm ci in tests/clients/node): ${e.message}\n`)
  process.exit(2)
}
const { Kafka, logLevel, PartitionAssigners } = kafkajs

/** kafkajs's round-robin assignor under the protocol name the other clients use. */
const standardRoundRobin = config => {
  const inner = PartitionAssigners.roundRobin(config)
  return { ...inner, name: 'roundrobin' }
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  const fd = fs.openSync(args.events, 'a')
  const write = (...fields) => fs.writeSync(fd, fields.join(' ') + '\n')
  const plist = parts => [...parts].sort((a, b) => a - b).join(',') || '-'
  const stats = { consumed: 0, commits: 0, commit_failures: 0, rebalances: 0, errors: 0 }
  const committed = {}
  write('START', Date.now(), 'kafkajs', args.name)

  const logCreator = () => ({ namespace, level, log: entry }) => {
    const { message, ...rest } = entry
    log(`kafkajs ${namespace} ${level}: ${message} ${JSON.stringify(rest)}`)
  }
  const kafka = new Kafka({
    clientId: args.name, brokers: args.bootstrap.split(','), connectionTimeout: 3000, requestTimeout: 10000,
    logLevel: args.verbose ? logLevel.DEBUG : logLevel.WARN, logCreator,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
  })
  const consumer = kafka.consumer({
    groupId: args.group, sessionTimeout: args.sessionTimeoutMs, heartbeatInterval: args.heartbeatMs,
    rebalanceTimeout: Math.max(10000, args.sessionTimeoutMs), maxWaitTimeInMs: 200, metadataMaxAge: 2000,
    allowAutoTopicCreation: false,
    partitionAssigners: args.assignor === 'roundrobin' ? [standardRoundRobin] : [PartitionAssigners.roundRobin],
  })
  const { GROUP_JOIN, COMMIT_OFFSETS, CRASH } = consumer.events
  consumer.on(GROUP_JOIN, e => {
    const parts = (e.payload.memberAssignment && e.payload.memberAssignment[args.topic]) || []
    stats.rebalances++
    write('ASSIGN', Date.now(), plist(parts))
    log(`${args.name}: assigned ${plist(parts)} (protocol ${e.payload.groupProtocol}, leader ${e.payload.isLeader})`)
  })
  consumer.on(COMMIT_OFFSETS, e => {
    const entries = []
    for (const t of e.payload.topics || []) {
      if (t.topic !== args.topic) continue
      for (const p of t.partitions) {
        entries.push(`${p.partition}:${p.offset}`)
        committed[p.partition] = Number(p.offset)
      }
    }
    if (entries.length > 0) {
      stats.commits++
      write('COMMIT', Date.now(), entries.join(','))
    }
  })
  let crashed = null // a crash kafkajs does not recover from by restarting the consumer
  let wake = null
  consumer.on(CRASH, e => {
    const text = `${e.payload.error && e.payload.error.name}: ${e.payload.error && e.payload.error.message}`
    stats.errors++
    write('ERROR', Date.now(), `crash (restart ${e.payload.restart}) ${text}`.replace(/\n/g, ' '))
    log(`${args.name}: consumer crashed: ${text} (restart: ${e.payload.restart})`)
    if (!e.payload.restart) {
      crashed = text
      if (wake) wake()
    }
  })

  let stop = false
  const onSignal = () => {
    stop = true
    if (wake) wake()
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)

  await consumer.connect()
  await consumer.subscribe({ topics: [args.topic], fromBeginning: true })
  write('SUBSCRIBE', Date.now())
  await consumer.run({
    autoCommit: true, autoCommitInterval: args.commitIntervalMs, eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      const t = Date.now()
      const lines = []
      for (const m of batch.messages) {
        const head = m.value ? m.value.toString('latin1').split('|')[0] : ''
        const id = /^id-\d+$/.test(head) ? head.slice(3) : '-1'
        lines.push(`M ${t} ${batch.partition} ${m.offset} ${id}\n`)
      }
      if (lines.length > 0) fs.writeSync(fd, lines.join(''))
      stats.consumed += lines.length
    },
  })

  let timer = null
  await new Promise(resolve => {
    wake = resolve
    if (stop || crashed !== null) resolve()
    timer = setTimeout(resolve, args.duration * 1000)
  })
  clearTimeout(timer)
  await consumer.disconnect().catch(e => log(`disconnect: ${e.message}`))
  write('STOP', Date.now())
  fs.closeSync(fd)
  process.stdout.write(JSON.stringify({ client: 'kafkajs', name: args.name, group: args.group, topic: args.topic,
    stopped_by_signal: stop, committed, crashed, ok: crashed === null, ...stats }) + '\n')
  // Exit now: kafkajs may leave sockets or timers behind that would keep the event loop alive (stdout is a pipe,
  // written synchronously on Linux, so nothing is lost).
  process.exit(crashed === null ? 0 : 1)
}

main().catch(e => {
  process.stdout.write(JSON.stringify({ client: 'kafkajs', ok: false, errors: [`${e.name}: ${e.message}`] }) + '\n')
  process.exit(1)
})
