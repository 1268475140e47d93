import fetchpool from './index.js'

export default fetchpool
export const { fetch, gather, stream, queue, Client, FetchError, Response, stats, timeline } = fetchpool
