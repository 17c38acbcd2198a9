#!/usr/bin/env node
'use strict'
/*
 * Failover load producer for the cluster tests, kafkajs edition (the equivalent of
 * tests/clients/python/cluster_producer.py). Produces numbered messages "id-<n>|<padding>" (n = 0, 1, 2, ...,
 * all with ONE key) with acks=-1 (not idempotent) at a fixed rate for --duration seconds or until SIGTERM.
 * Messages due are sent together in one awaited send() (one request in flight, so the log order is the id order);
 * a send that fails after kafkajs's own retries is recorded and the same messages are sent again (at-least-once).
 * Each acknowledged id is appended to --acked-file as "<id> <delivery-time-ms>" at once; each failed send to
 * --errors-file as "<time-ms> <first-id> <error>".
 *
 *   node cluster_producer.js --bootstrap 127.0.0.1:9092,127.0.0.2:9092 --topic T --acked-file A --errors-file E
 *        [--duration 30] [--rate 200] [--key k] [--verbose]
 *
 * Output: one JSON summary line on stdout; logs on stderr. Exit 0 when it ran to the end, 2 on a usage error.
 */

const fs = require('fs')

function parseArgs(argv) {
  const args = { bootstrap: null, topic: null, ackedFile: null, errorsFile: null, duration: 30, rate: 200,
    key: 'failover-key', verbose: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`)
      return argv[++i]
    }
    switch (a) {
      case '--bootstrap': args.bootstrap = next(); break
      case '--topic': args.topic = next(); break
      case '--acked-file': args.ackedFile = next(); break
      case '--errors-file': args.errorsFile = next(); break
      case '--duration': args.duration = parseFloat(next()); break
      case '--rate': args.rate = parseFloat(next()); break
      case '--key': args.key = next(); break
      case '--verbose': args.verbose = true; break
      default: usage(`unknown argument ${a}`)
    }
  }
  if (!args.bootstrap || !args.topic || !args.ackedFile || !args.errorsFile) {
    usage('--bootstrap, --topic, --acked-file and --errors-file are required')
  }
  if (!(args.duration > 0) || !(args.rate > 0)) usage('bad numeric argument')
  return args
}

function usage(msg) {
  process.stderr.write(`cluster_producer: ${msg}\n`)
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
    clientId: 'cluster-producer', brokers: args.bootstrap.split(','), connectionTimeout: 3000,
    requestTimeout: 10000, logLevel: args.verbose ? logLevel.DEBUG : logLevel.WARN, logCreator,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
  })
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false, maxInFlightRequests: 1,
    metadataMaxAge: 2000 })
  const acked = fs.openSync(args.ackedFile, 'a')
  const errors = fs.openSync(args.errorsFile, 'a')
  const stats = { sent: 0, acked: 0, failed_sends: 0, retried_messages: 0 }
  let firstError = null
  const partitions = new Set()

  await producer.connect()
  const started = Date.now()
  let n = 0
  let pending = [] // ids not yet acknowledged, sent again after a failure
  while (!stop && Date.now() - started < args.duration * 1000) {
    const due = Math.floor((Date.now() - started) / 1000 * args.rate)
    while (n < due && pending.length < 500) pending.push(n++)
    if (pending.length === 0) {
      await sleep(Math.max(1, Math.ceil(1000 / args.rate)))
      continue
    }
    const batch = pending
    try {
      const result = await producer.send({
        topic: args.topic, acks: -1, timeout: 10000,
        messages: batch.map(id => ({ key: args.key, value: Buffer.concat([Buffer.from(`id-${id}|`), Buffer.alloc(64, 'x')]) })),
      })
      const t = Date.now()
      fs.writeSync(acked, batch.map(id => `${id} ${t}\n`).join(''))
      for (const r of result) partitions.add(r.partition)
      stats.acked += batch.length
      stats.sent += batch.length
      pending = []
    } catch (e) {
      const t = Date.now()
      const text = `${e.name}: ${e.message}`.replace(/\n/g, ' ')
      fs.writeSync(errors, `${t} ${batch[0]} ${text}\n`)
      stats.failed_sends++
      stats.retried_messages += batch.length
      if (!firstError) {
        firstError = text
        log(`first send error (ids from ${batch[0]}): ${text}`)
      }
      await sleep(100)
    }
  }
  await producer.disconnect().catch(() => {})
  fs.closeSync(acked)
  fs.closeSync(errors)
  process.stdout.write(JSON.stringify({ client: 'kafkajs', topic: args.topic, stopped_by_signal: stop,
    unacked_at_exit: pending.length, partitions: [...partitions], first_error: firstError, ok: true, ...stats }) + '\n')
}

main().catch(e => {
  process.stdout.write(JSON.stringify({ client: 'kafkajs', ok: false, errors: [`${e.name}: ${e.message}`] }) + '\n')
  process.exit(1)
})
