//! One invocation of a WASI 0.3 component (`wasi:http/handler@0.3`, the
//! async component model): a fresh store and instance for the request (or a
//! pooled one for functions that opted into reuse), as for 0.2 (invoke.rs),
//! with the same limits, meter, logs and pipes. The differences: the
//! guest's `handle` returns the response (no outparam), and its body arrives
//! through a component-model stream that only moves while the store's event
//! loop (`run_concurrent`) runs, so the whole exchange, head and body,
//! happens inside that loop.
use crate::component::{Instance, Pooled};
use crate::host::Host;
use crate::invoke::{
    acquire, classify_guest_error, deliver_head, env_key, fn0_limits_t, forward_body, keep_for_reuse, Call, Cpu,
    Finished, Gate, RequestState, FN0_OUTCOME_GUEST_ERROR, FN0_OUTCOME_INVALID_RESPONSE, FN0_OUTCOME_OK,
};
use crate::limits::Metered;
use crate::pipe::{Pipe, PipeBody};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::Accessor;
use wasmtime_wasi_http::p3::bindings::{Service, ServicePre};
use wasmtime_wasi_http::p3::Request;
use wasmtime_wasi_http::{FieldMap, WasiHttpView};

pub(crate) async fn run(call: Call, component: ServicePre<Host>) -> (Finished, Cpu) {
    let Call { engine, pool, request, plan, gate, response_body, started, timing, .. } = call;
    let setup = Instant::now();
    let limits = plan.limits;
    let state = RequestState::new(&gate, &limits);
    let key = env_key(&plan.env);
    let (mut store, instance, served) = acquire(&engine, &pool, &plan, key);
    state.arm(&mut store, plan, &gate);

    let pipe = response_body.clone();
    let guest = async move {
        let result = async {
            let service = match instance {
                Some(Instance::P3(s)) => s,
                _ => component.instantiate_async(&mut store).await?,
            };
            timing.instantiate_ns.store(setup.elapsed().as_nanos() as u64, Relaxed);
            store
                .run_concurrent(async |accessor| -> wasmtime::Result<Finished> {
                    exchange(accessor, &service, request, &limits, &gate, &started, pipe.clone()).await
                })
                .await?
                .map(|f| (f, service))
        }
        .await;
        let memory_hit = store.data().limiter.hit;
        (result, memory_hit, store)
    };
    let (result, memory_hit, mut store) = Metered { inner: Box::pin(guest), meter: state.meter.clone() }.await;
    state.finish_logs();
    let finished = match result {
        Ok((f, service)) => {
            // Reused only after a clean exchange; the guest's tasks that
            // are still pending go on in the next request's event loop.
            if f.kind == FN0_OUTCOME_OK && keep_for_reuse(&limits, served + 1) {
                store.data_mut().stdout.set(None);
                store.data_mut().stderr.set(None);
                pool.put(Pooled { store, instance: Instance::P3(service), served: served + 1, env_key: key });
            }
            f
        }
        // The store is dropped, with whatever the guest still held or ran.
        Err(e) => classify_guest_error(&e, &state.meter, &limits, memory_hit),
    };
    if finished.kind != FN0_OUTCOME_OK {
        // A no-op if the body already ended; otherwise the client must not
        // take what it got for a whole body.
        response_body.fail(finished.message.clone());
    }
    (finished, state.cpu())
}

/// One request through the guest's `handle`, inside the store's event loop:
/// the head goes to C++ (`deliver_head`), then the body into `pipe` while
/// the guest writes it. Err: the store trapped (its instance is done for).
pub(crate) async fn exchange(
    accessor: &Accessor<Host>,
    service: &Service,
    request: http::Request<PipeBody>,
    limits: &fn0_limits_t,
    gate: &Gate,
    started: &AtomicBool,
    pipe: Arc<Pipe>,
) -> wasmtime::Result<Finished> {
    let (head, body) = request.into_parts();
    let uri = head.uri.into_parts();
    let headers = accessor.with(|mut s| FieldMap::new_immutable(s.data_mut().http().hooks, head.headers));
    let (request, request_io) = Request::new(head.method, uri.scheme, uri.authority, uri.path_and_query, headers, None, body);
    let response = match service.handle(accessor, request).await? {
        Ok(r) => r,
        Err(code) => {
            return Ok(Finished::new(FN0_OUTCOME_GUEST_ERROR, format!("the guest answered with an error: {code:?}")))
        }
    };
    let response = accessor.with(|mut s| response.into_http(&mut s, request_io))?;
    let (parts, body) = response.into_parts();
    if let Err(why) = deliver_head(&parts, limits, gate, started) {
        return Ok(Finished::new(FN0_OUTCOME_INVALID_RESPONSE, why));
    }
    // The guest keeps running (writing its body) while this waits for the
    // next chunk: both are driven by the loop.
    Ok(match forward_body(body, pipe.clone()).await {
        Ok(()) => {
            pipe.finish();
            Finished::ok()
        }
        Err(why) => {
            pipe.fail(why.clone());
            Finished::new(FN0_OUTCOME_INVALID_RESPONSE, format!("response body failed: {why}"))
        }
    })
}
