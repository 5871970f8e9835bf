package io.dagy.eventstore.support;

import org.axonframework.messaging.Message;
import org.axonframework.tracing.Span;
import org.axonframework.tracing.SpanAttributesProvider;
import org.axonframework.tracing.SpanFactory;
import org.axonframework.tracing.SpanScope;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

/**
 * An Axon {@link SpanFactory} that records the spans components create: their names, attributes, whether they started
 * and ended, the exceptions recorded, and the span whose context a handled message carried (what
 * {@link #propagateContext} put in its metadata), so a test can check which spans a component makes and how they link.
 */
public final class RecordingSpanFactory implements SpanFactory {

    /** The metadata key {@link #propagateContext} writes: the id of the span current when the message was sent. */
    public static final String CONTEXT_KEY = "test-span";

    private final Queue<RecordedSpan> spans = new ConcurrentLinkedQueue<>();
    private final ThreadLocal<RecordedSpan> current = new ThreadLocal<>();

    public List<RecordedSpan> spans() {
        return List.copyOf(spans);
    }

    /** The spans of this name that ended. */
    public List<RecordedSpan> ended(String name) {
        return spans.stream().filter(s -> s.name().equals(name) && s.ended()).toList();
    }

    public Optional<RecordedSpan> byId(String id) {
        return spans.stream().filter(s -> s.id().equals(id)).findFirst();
    }

    private RecordedSpan record(Supplier<String> name, String kind, Message<?> parent) {
        String linked = parent == null ? null : (String) parent.getMetaData().get(CONTEXT_KEY);
        RecordedSpan span = new RecordedSpan(name.get(), kind, linked);
        spans.add(span);
        return span;
    }

    @Override
    public Span createRootTrace(Supplier<String> operationNameSupplier) {
        return record(operationNameSupplier, "root", null);
    }

    @Override
    public Span createHandlerSpan(Supplier<String> operationNameSupplier, Message<?> parentMessage,
                                  boolean isChildTrace, Message<?>... linkedParents) {
        return record(operationNameSupplier, isChildTrace ? "child-handler" : "linked-handler", parentMessage);
    }

    @Override
    public Span createDispatchSpan(Supplier<String> operationNameSupplier, Message<?> parentMessage,
                                   Message<?>... linkedSiblings) {
        return record(operationNameSupplier, "dispatch", parentMessage);
    }

    @Override
    public Span createInternalSpan(Supplier<String> operationNameSupplier) {
        return record(operationNameSupplier, "internal", null);
    }

    @Override
    public Span createInternalSpan(Supplier<String> operationNameSupplier, Message<?> message) {
        return record(operationNameSupplier, "internal", message);
    }

    @Override
    public void registerSpanAttributeProvider(SpanAttributesProvider provider) {
        // attributes from messages are not recorded
    }

    @Override
    @SuppressWarnings("unchecked")
    public <M extends Message<?>> M propagateContext(M message) {
        RecordedSpan span = current.get();
        return span == null ? message : (M) message.andMetaData(Map.of(CONTEXT_KEY, span.id()));
    }

    /** One span as a component used it. */
    public final class RecordedSpan implements Span {
        private final String id = UUID.randomUUID().toString();
        private final String name;
        private final String kind;
        private final String linkedTo;
        private final Map<String, String> attributes = new ConcurrentHashMap<>();
        private final Queue<Throwable> exceptions = new ConcurrentLinkedQueue<>();
        private volatile boolean started;
        private volatile boolean ended;

        private RecordedSpan(String name, String kind, String linkedTo) {
            this.name = name;
            this.kind = kind;
            this.linkedTo = linkedTo;
        }

        public String id() {
            return id;
        }

        public String name() {
            return name;
        }

        public String kind() {
            return kind;
        }

        /** The id of the span whose context the message this span handles carried; null if none. */
        public String linkedTo() {
            return linkedTo;
        }

        public Map<String, String> attributes() {
            return Map.copyOf(attributes);
        }

        public List<Throwable> exceptions() {
            return List.copyOf(exceptions);
        }

        public boolean started() {
            return started;
        }

        public boolean ended() {
            return ended;
        }

        @Override
        public Span start() {
            started = true;
            return this;
        }

        @Override
        public SpanScope makeCurrent() {
            RecordedSpan previous = current.get();
            current.set(this);
            return () -> current.set(previous);
        }

        @Override
        public void end() {
            ended = true;
        }

        @Override
        public Span recordException(Throwable t) {
            exceptions.add(t);
            return this;
        }

        @Override
        public Span addAttribute(String key, String value) {
            attributes.put(key, value);
            return this;
        }

        @Override
        public String toString() {
            return name + " " + attributes + (ended ? " ended" : started ? " started" : " created");
        }
    }
}
