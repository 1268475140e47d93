'use strict'

// Settings the producer, the workers and the collector share. Each can be
// set from the environment, so the same files run on any machine that
// reaches the Redis server.

function redisConnection (url) {
  const { hostname, port, password, username } = new URL(url)
  return {
    host: hostname,
    port: Number(port || 6379),
    username: username || undefined,
    password: password ? decodeURIComponent(password) : undefined,
    // BullMQ's workers block on Redis; they must not give up on a slow reply.
    maxRetriesPerRequest: null
  }
}

const env = process.env

module.exports = {
  connection: redisConnection(env.REDIS_URL || 'redis://127.0.0.1:6379'),
  // One queue per run keeps its jobs apart from other runs'.
  queueName: env.FETCHPOOL_QUEUE || 'fetchpool-urls',
  // URLs per job: a few hundred, so a lost worker costs little to redo.
  jobSize: Number(env.JOB_SIZE || 250),
  // fetchpool, per worker process: requests in flight, connections per host,
  // retries and timeouts.
  fetch: {
    concurrency: Number(env.FETCH_CONCURRENCY || 32),
    connectionsPerHost: Number(env.FETCH_PER_HOST || 16),
    retry: { retries: Number(env.FETCH_RETRIES || 2), minDelay: 50 },
    timeout: { headers: 10_000, body: 10_000, total: 30_000 }
  },
  // BullMQ: a worker that stops renewing its lock (it died) has its job
  // handed to another worker after about lockDuration + stalledInterval.
  worker: {
    lockDuration: Number(env.LOCK_MS || 30_000),
    stalledInterval: Number(env.STALLED_MS || 30_000),
    maxStalledCount: 3
  },
  // BullMQ's own retries, for a job whose processor throws.
  jobAttempts: 3
}
