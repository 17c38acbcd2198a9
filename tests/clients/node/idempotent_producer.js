#!/usr/bin/env node
'use strict'
/*
 * Idempotent producer for the failover tests, kafkajs edition (the equivalent of
 * tests/clients/python/idempotent_producer.py): kafkajs with idempotent: true (acks=-1, one request in flight,
 * kafkajs's unlimited retries with the original sequence numbers). Produces ids 0, 1, 2, ... (value
 * "id-<n>|<padding>") to partition n % --partitions at --rate messages/s until --count, --duration or SIGTERM.
 * Messages due are sent in one awaited send() PER PARTITION, one after the other: kafkajs 2.2.4's send() keeps the
 * responses of a multi-broker send per broker across its retries, so when a partition's leader moves (NOT_LEADER)
 * to a broker that already answered for other partitions, the retry skips that broker and send() resolves without
 * ever writing the partition's messages (seen here as acknowledged ids missing from the log). A send that still
 * fails is recorded and NOT sent again (a re-send would carry new sequence numbers, i.e. be a new message): the
 * test judges such ids separately.
 * Acknowledged ids go to --acked-file as "<id> <ms> <partition> <offset>" (offset = base offset of the send's
 * partition batch + index), failures to --errors-file as "<ms> <id> <error>" (one line per message of the send).
 *
 *   node idempotent_producer.js --bootstrap H:P,H:P --topic t --partitions 3 --acked-file a --errors-file e
 *        [--count 3000] [--rate 300] [--duration 60] [--verbose]
 *
 * Output: one JSON summary line on stdout; logs on stderr. Exit 0 when it ran to the end, 1 on a client error that
 * stopped it (e.g. InitProducerId failing), 2 on a usage error.
 */

const fs = require('fs')

function parseArgs(argv) {
  const args = { bootstrap: null, topic: null, partitions: 1, ackedFile: null, errorsFile: null, count: 0, rate: 300,
    duration: 60, verbose: false }
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
      case '--acked-file': args.ackedFile = next(); break
      case '--errors-file': args.errorsFile = next(); break
      case '--count': args.count = parseInt(next(), 10); break
      case '--rate': args.rate = parseFloat(next()); break
      case '--duration': args.duration = parseFloat(next()); break
      case '--verbose': args.verbose = true; break
      default: usage(`unknown argument ${a}`)
    }
  }
  if (!args.bootstrap || !args.topic || !args.ackedFile || !args.errorsFile) {
    usage('--bootstrap, --topic, --acked-file and --errors-file are required')
  }
  if (!(args.partitions >= 1) || !(args.rate > 0) || !(args.duration > 0) || !(args.count >= 0)) usage('bad numeric argument')
  return args
}

function usage(msg) {
  process.stderr.write(`idempotent_producer: ${msg}\n`)
  process.exit(2)
}

function log(...parts) {
  process.stderr.write(`${new Date().toISOString()} ${parts.join(' ')}\n`)
}

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
let kafkajs
try {
  kafkajs = require('kafkajs')
} catch (e) {
  process.stderr.write(`kafkajs not installed (run npm ci in tests/clients/node): ${e.message}\n`)
  process.exit(2)
}
const { Kafka, logLevel } = kafkajs

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

async function main() {
  const args = parseArgs(process.argv.slice(2))
  let stop = false
  process.on('SIGTERM', () => { stop = true })
  process.on('SIGINT', () => { stop = true })

  const logCreator = () => ({ namespace, level, log: entry }) => {
    const { message, ...rest } = entry
    log(`kafkajs ${namespace} ${level}: ${message} ${JSON.stringify(rest)}`)
  }
  const kafka = new Kafka({
    clientId: 'idempotent-producer', brokers: args.bootstrap.split(','), connectionTimeout: 3000,
    requestTimeout: 10000, logLevel: args.verbose ? logLevel.DEBUG : logLevel.WARN, logCreator,
  })
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1,
    metadataMaxAge: 2000, retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 1000 } })
  const acked = fs.openSync(args.ackedFile, 'a')
  const errors = fs.openSync(args.errorsFile, 'a')
  const stats = { sent: 0, acked: 0, acked_without_partition_result: 0, failed_sends: 0, failed_messages: 0 }
  let firstError = null

  /** Sends ids (all for partition p) in one awaited send and records the outcome. */
  const sendOne = async (p, ids) => {
    try {
      const result = await producer.send({
        topic: args.topic, acks: -1, timeout: 10000,
        messages: ids.map(id => ({ partition: p, value: Buffer.concat([Buffer.from(`id-${id}|`), Buffer.alloc(48, 'j')]) })),
      })
      const t = Date.now()
      const r = result.find(x => x.partition === p)
      const base = r ? BigInt(r.baseOffset) : null
      fs.writeSync(acked, ids.map((id, k) => `${id} ${t} ${p} ${base === null ? -1 : base + BigInt(k)}\n`).join(''))
      stats.acked += ids.length
      if (!r) stats.acked_without_partition_result += ids.length
    } catch (e) {
      const t = Date.now()
      const text = `${e.name}: ${e.message}`.replace(/\n/g, ' ')
      fs.writeSync(errors, ids.map(id => `${t} ${id} ${text}\n`).join(''))
      stats.failed_sends++
      stats.failed_messages += ids.length
      if (!firstError) {
        firstError = text
        log(`first send error (ids ${ids[0]}..${ids[ids.length - 1]}): ${text}`)
      }
    }
  }

  await producer.connect()
  const started = Date.now()
  let n = 0
  while (!stop && Date.now() - started < args.duration * 1000 && (args.count <= 0 || n < args.count)) {
    let due = Math.floor((Date.now() - started) / 1000 * args.rate)
    if (args.count > 0) due = Math.min(due, args.count)
    if (due <= n) {
      await sleep(Math.max(1, Math.ceil(1000 / args.rate)))
      continue
    }
    const dueIds = []
    while (n < due && dueIds.length < 500) dueIds.push(n++)
    stats.sent += dueIds.length
    for (let p = 0; p < args.partitions; p++) {
      const ids = dueIds.filter(id => id % args.partitions === p)
      if (ids.length > 0) await sendOne(p, ids)
    }
  }
  await producer.disconnect().catch(() => {})
  fs.closeSync(acked)
  fs.closeSync(errors)
  process.stdout.write(JSON.stringify({ client: 'kafkajs', idempotent: true, topic: args.topic, next_id: n,
    stopped_by_signal: stop, first_error: firstError, ok: true, ...stats }) + '\n')
}

main().catch(e => {
  process.stdout.write(JSON.stringify({ client: 'kafkajs', idempotent: true, ok: false, errors: [`${e.name}: ${e.message}`] }) + '\n')
  process.exit(1)
})
