import fetchpool from './index.js'

export default fetchpool
export const { fetch, gather, stream, download, queue, Client, FetchError, Response, stats } = fetchpool
