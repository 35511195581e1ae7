import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';

/** Every consumer this process's mediasoup creates from now on (the test process runs the server). */
export function watchConsumers(): ms.Consumer[] {
  const consumers: ms.Consumer[] = [];
  mediasoup.observer.on('newworker', (worker) =>
    worker.observer.on('newrouter', (router) =>
      router.observer.on('newtransport', (transport) => transport.observer.on('newconsumer', (consumer) => consumers.push(consumer))),
    ),
  );
  return consumers;
}
