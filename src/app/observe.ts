import { Observable } from 'rxjs';
import type { AnyActorRef, SnapshotFrom } from 'xstate';

/**
 * An actor's snapshots as an Observable: the current one first, then every change, completing
 * when the actor stops.
 *
 * @example
 * ```ts
 * snapshots$(server.listener).subscribe((s) => console.log(s.value));
 * ```
 */
export function snapshots$<A extends AnyActorRef>(actor: A): Observable<SnapshotFrom<A>> {
  return new Observable<SnapshotFrom<A>>((subscriber) => {
    subscriber.next(actor.getSnapshot());
    const sub = actor.subscribe({
      next: (snapshot: SnapshotFrom<A>) => subscriber.next(snapshot),
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    return () => sub.unsubscribe();
  });
}
