package io.dagy.eventstore.processing;

import org.axonframework.messaging.Message;
import org.axonframework.messaging.annotation.HandlerEnhancerDefinition;
import org.axonframework.messaging.annotation.MessageHandlingMember;
import org.axonframework.messaging.annotation.WrappedMessageHandlingMember;

import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Optional;

/**
 * Applies {@link SkipWhen}: a handler so annotated cannot handle a message whose payload's accessor answers
 * {@code true}. Registered through {@code META-INF/services}, so Axon finds it with or without Spring.
 */
public final class SkipWhenEnhancer implements HandlerEnhancerDefinition {

    @Override
    public <T> MessageHandlingMember<T> wrapHandler(MessageHandlingMember<T> original) {
        Optional<SkipWhen> skip = original.unwrap(Executable.class).map(handler -> handler.getAnnotation(SkipWhen.class));
        if (skip.isEmpty()) {
            return original;
        }
        Method accessor = accessor(original.payloadType(), skip.get().value());
        return new WrappedMessageHandlingMember<>(original) {
            @Override
            public boolean canHandle(Message<?> message) {
                return super.canHandle(message) && !skipped(accessor, message.getPayload());
            }
        };
    }

    private static Method accessor(Class<?> payloadType, String name) {
        try {
            Method accessor = payloadType.getMethod(name);
            if (accessor.getReturnType() != boolean.class && accessor.getReturnType() != Boolean.class) {
                throw new IllegalStateException("@SkipWhen(\"" + name + "\"): " + payloadType.getName() + "." + name
                        + "() does not return boolean");
            }
            return accessor;
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("@SkipWhen(\"" + name + "\"): " + payloadType.getName() + " has no public "
                    + name + "()", e);
        }
    }

    private static boolean skipped(Method accessor, Object payload) {
        try {
            return Boolean.TRUE.equals(accessor.invoke(payload));
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("@SkipWhen accessor " + accessor + " failed", e);
        }
    }
}
