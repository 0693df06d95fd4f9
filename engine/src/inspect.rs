//! What a component asks of the node, counted from its bytes before anything
//! is compiled: the core instances, memories and tables one instantiation
//! creates (every one takes a slot of the pooling allocator) and how much
//! code there is to compile. One pass of wasmparser, no validation (that is
//! wasmtime's job): a 200,000-function component is refused in milliseconds
//! instead of costing seconds of compile time and gigabytes of memory.
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentAlias, ComponentDefinedType, ComponentExternalKind,
    ComponentInstance, ComponentOuterAliasKind, ComponentType, ComponentTypeDeclaration, ComponentTypeRef,
    Encoding, Instance, InstanceTypeDeclaration, Parser, Payload,
};

/// Caps per component. The example components (C through the preview1
/// adapter, JavaScript through StarlingMonkey) sit below every one of them
/// (engine/README.md has the measured counts). Memories and tables are what
/// the pooling allocator reserves slots for (engine.rs: two memories and
/// four tables per instance slot), so an instance at the caps takes no more
/// than its slot's share: one function's instances can fill only as much of
/// the pool as its share of the node's concurrency.
pub(crate) const MAX_COMPONENT_BYTES: usize = 64 << 20;
pub(crate) const MAX_CORE_INSTANCES: u64 = 16;
pub(crate) const MAX_MEMORIES: u64 = 2;
pub(crate) const MAX_TABLES: u64 = 4;
pub(crate) const MAX_FUNCTIONS: u64 = 50_000;
pub(crate) const MAX_CODE_BYTES: u64 = 48 << 20;

/// What one instantiation creates (saturating: a component can nest
/// instantiations to overflow any counter).
#[derive(Clone, Copy, Default, Debug, PartialEq)]
pub(crate) struct Counts {
    pub(crate) core_instances: u64,
    pub(crate) memories: u64,
    pub(crate) tables: u64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.core_instances = self.core_instances.saturating_add(o.core_instances);
        self.memories = self.memories.saturating_add(o.memories);
        self.tables = self.tables.saturating_add(o.tables);
    }
}

#[derive(Default, Debug, PartialEq)]
pub(crate) struct Shape {
    /// Created by instantiating the component once, nested components included.
    pub(crate) per_instance: Counts,
    /// Defined functions of every core module (each compiled once).
    pub(crate) functions: u64,
    pub(crate) code_bytes: u64,
    /// Uses the async component model (WASI 0.3): async lifts or lowers,
    /// task, stream or future built-ins, or stream, future or async
    /// function types. Such a component needs the engine with concurrency
    /// support (engine.rs); one without any of these runs on the other.
    pub(crate) concurrent: bool,
}

/// One module or component being read; nested ones are read inline, between
/// their `Version` and `End` payloads.
enum Frame {
    Module { memories: u64, tables: u64 },
    Component {
        /// What instantiating each entry of the core module index space creates.
        modules: Vec<Counts>,
        /// The same for the component index space.
        components: Vec<Counts>,
        total: Counts,
    },
}

/// A module fn0 cannot see into (imported, or exported by an instance): one
/// instance, its memories unknown. wasmtime's own check after compilation
/// still counts it exactly.
const OPAQUE_MODULE: Counts = Counts { core_instances: 1, memories: 0, tables: 0 };

pub(crate) fn shape(bytes: &[u8]) -> wasmparser::Result<Shape> {
    let mut out = Shape::default();
    let mut stack: Vec<Frame> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::Version { encoding: Encoding::Module, .. } => stack.push(Frame::Module { memories: 0, tables: 0 }),
            Payload::Version { encoding: Encoding::Component, .. } => stack.push(Frame::Component {
                modules: Vec::new(),
                components: Vec::new(),
                total: Counts::default(),
            }),
            Payload::MemorySection(r) => {
                if let Some(Frame::Module { memories, .. }) = stack.last_mut() {
                    *memories += u64::from(r.count());
                }
            }
            Payload::TableSection(r) => {
                if let Some(Frame::Module { tables, .. }) = stack.last_mut() {
                    *tables += u64::from(r.count());
                }
            }
            Payload::FunctionSection(r) => out.functions = out.functions.saturating_add(u64::from(r.count())),
            Payload::CodeSectionStart { size, .. } => out.code_bytes = out.code_bytes.saturating_add(u64::from(size)),
            Payload::ComponentCanonicalSection(r) => {
                for f in r {
                    out.concurrent |= canonical_is_concurrent(&f?);
                }
            }
            Payload::ComponentTypeSection(r) => {
                for t in r {
                    out.concurrent |= type_is_concurrent(&t?);
                }
            }
            Payload::ComponentImportSection(r) => {
                for import in r {
                    match import?.ty {
                        ComponentTypeRef::Module(_) => push_module(&mut stack, OPAQUE_MODULE),
                        ComponentTypeRef::Component(_) => push_component(&mut stack, Counts::default()),
                        _ => {}
                    }
                }
            }
            Payload::ComponentAliasSection(r) => {
                for alias in r {
                    match alias? {
                        ComponentAlias::InstanceExport { kind: ComponentExternalKind::Module, .. } => {
                            push_module(&mut stack, OPAQUE_MODULE)
                        }
                        ComponentAlias::InstanceExport { kind: ComponentExternalKind::Component, .. } => {
                            push_component(&mut stack, Counts::default())
                        }
                        ComponentAlias::Outer { kind, count, index } => {
                            let outer = outer_component(&stack, count);
                            match kind {
                                ComponentOuterAliasKind::CoreModule => {
                                    let c = outer.and_then(|(m, _)| m.get(index as usize).copied());
                                    push_module(&mut stack, c.unwrap_or(OPAQUE_MODULE));
                                }
                                ComponentOuterAliasKind::Component => {
                                    let c = outer.and_then(|(_, c)| c.get(index as usize).copied());
                                    push_component(&mut stack, c.unwrap_or_default());
                                }
                                _ => {}
                            }
                        }
                        _ => {}
                    }
                }
            }
            // An export adds the exported item to its index space again.
            Payload::ComponentExportSection(r) => {
                for export in r {
                    let export = export?;
                    if let Some(Frame::Component { modules, components, .. }) = stack.last_mut() {
                        let i = export.index as usize;
                        match export.kind {
                            ComponentExternalKind::Module => {
                                modules.push(modules.get(i).copied().unwrap_or(OPAQUE_MODULE))
                            }
                            ComponentExternalKind::Component => {
                                components.push(components.get(i).copied().unwrap_or_default())
                            }
                            _ => {}
                        }
                    }
                }
            }
            Payload::InstanceSection(r) => {
                for instance in r {
                    if let Instance::Instantiate { module_index, .. } = instance? {
                        if let Some(Frame::Component { modules, total, .. }) = stack.last_mut() {
                            total.add(modules.get(module_index as usize).copied().unwrap_or(OPAQUE_MODULE));
                        }
                    }
                }
            }
            Payload::ComponentInstanceSection(r) => {
                for instance in r {
                    if let ComponentInstance::Instantiate { component_index, .. } = instance? {
                        if let Some(Frame::Component { components, total, .. }) = stack.last_mut() {
                            total.add(components.get(component_index as usize).copied().unwrap_or_default());
                        }
                    }
                }
            }
            Payload::End(_) => match stack.pop() {
                Some(Frame::Module { memories, tables }) => {
                    push_module(&mut stack, Counts { core_instances: 1, memories, tables })
                }
                Some(Frame::Component { total, .. }) => {
                    if stack.is_empty() {
                        out.per_instance = total;
                    } else {
                        push_component(&mut stack, total);
                    }
                }
                None => {}
            },
            _ => {}
        }
    }
    Ok(out)
}

fn canonical_is_concurrent(f: &CanonicalFunction) -> bool {
    let is_async = |o: &[CanonicalOption]| o.iter().any(|o| matches!(o, CanonicalOption::Async | CanonicalOption::Callback(_)));
    match f {
        CanonicalFunction::Lift { options, .. } | CanonicalFunction::Lower { options, .. } => is_async(options),
        CanonicalFunction::ResourceNew { .. }
        | CanonicalFunction::ResourceDrop { .. }
        | CanonicalFunction::ResourceRep { .. } => false,
        // Tasks, subtasks, streams, futures, contexts, threads, ...
        _ => true,
    }
}

fn type_is_concurrent(t: &ComponentType) -> bool {
    match t {
        ComponentType::Defined(ComponentDefinedType::Future(_) | ComponentDefinedType::Stream(_)) => true,
        ComponentType::Defined(_) | ComponentType::Resource { .. } => false,
        ComponentType::Func(f) => f.async_,
        ComponentType::Component(decls) => decls.iter().any(|d| match d {
            ComponentTypeDeclaration::Type(t) => type_is_concurrent(t),
            _ => false,
        }),
        ComponentType::Instance(decls) => decls.iter().any(|d| match d {
            InstanceTypeDeclaration::Type(t) => type_is_concurrent(t),
            _ => false,
        }),
    }
}

fn push_module(stack: &mut [Frame], c: Counts) {
    if let Some(Frame::Component { modules, .. }) = stack.last_mut() {
        modules.push(c);
    }
}

fn push_component(stack: &mut [Frame], c: Counts) {
    if let Some(Frame::Component { components, .. }) = stack.last_mut() {
        components.push(c);
    }
}

/// The index spaces of the component `count` levels out (0 = the current one).
fn outer_component(stack: &[Frame], count: u32) -> Option<(&Vec<Counts>, &Vec<Counts>)> {
    let i = stack.len().checked_sub(1 + count as usize)?;
    match &stack[i] {
        Frame::Component { modules, components, .. } => Some((modules, components)),
        Frame::Module { .. } => None,
    }
}

/// Refuses a component over one of the caps, naming the count and the cap.
/// Returns what was counted.
pub(crate) fn check_limits(bytes: &[u8]) -> wasmtime::Result<Shape> {
    if bytes.len() > MAX_COMPONENT_BYTES {
        wasmtime::bail!(
            "the component is {} bytes; fn0 compiles components of at most {} MiB",
            bytes.len(),
            MAX_COMPONENT_BYTES >> 20
        );
    }
    let s = shape(bytes).map_err(|e| wasmtime::format_err!("invalid component: {e}"))?;
    let over = |what: &str, n: u64, max: u64| -> wasmtime::Result<()> {
        if n > max {
            wasmtime::bail!("the component has {n} {what}; fn0 allows at most {max} per component");
        }
        Ok(())
    };
    over("core instances (core module instantiations)", s.per_instance.core_instances, MAX_CORE_INSTANCES)?;
    over("linear memories", s.per_instance.memories, MAX_MEMORIES)?;
    over("tables", s.per_instance.tables, MAX_TABLES)?;
    over("functions", s.functions, MAX_FUNCTIONS)?;
    over("bytes of function code", s.code_bytes, MAX_CODE_BYTES)?;
    Ok(s)
}
