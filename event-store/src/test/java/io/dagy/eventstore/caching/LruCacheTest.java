package io.dagy.eventstore.caching;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LruCacheTest {

    @Test
    void evictsTheLeastRecentlyUsedEntryWhenFull() {
        LruCache cache = new LruCache(2);
        cache.put("a", 1);
        cache.put("b", 2);
        assertThat(cache.<String, Integer>get("a")).isEqualTo(1); // a is now the most recently used
        cache.put("c", 3);

        assertThat(cache.containsKey("b")).isFalse();
        assertThat(cache.<String, Integer>get("a")).isEqualTo(1);
        assertThat(cache.<String, Integer>get("c")).isEqualTo(3);
        assertThat(cache.size()).isEqualTo(2);
    }

    @Test
    void removesUpdatesAndRefusesAZeroBound() {
        LruCache cache = new LruCache(10);
        assertThat(cache.putIfAbsent("a", 1)).isTrue();
        assertThat(cache.putIfAbsent("a", 2)).isFalse();
        cache.<Integer>computeIfPresent("a", value -> value + 10);
        assertThat(cache.<String, Integer>get("a")).isEqualTo(11);
        assertThat(cache.remove("a")).isTrue();
        assertThat(cache.remove("a")).isFalse();
        assertThat(cache.<String, Integer>get("a")).isNull();
        assertThatThrownBy(() -> new LruCache(0)).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Values held softly give way before the heap does: half again the heap's maximum is put into a soft cache whose
     * bound by count would keep all of it. With plain references this ends in an OutOfMemoryError.
     */
    @Test
    void softValuesGiveWayWhenTheHeapRunsShort() {
        long max = Runtime.getRuntime().maxMemory();
        org.junit.jupiter.api.Assumptions.assumeTrue(max <= 8L << 30, "the heap is too large to fill quickly");
        int chunk = 8 << 20;
        LruCache cache = LruCache.softValues(Integer.MAX_VALUE);
        long put = 0;
        int key = 0;
        while (put < max + max / 2) {
            cache.put(key++, new byte[chunk]);
            put += chunk;
        }
        assertThat(cache.<Integer, byte[]>get(key - 1)).hasSize(chunk); // the newest is there
        int held = 0;
        for (int k = 0; k < key; k++) {
            if (cache.containsKey(k)) {
                held++;
            }
        }
        assertThat(held).isLessThan(key).isPositive();
        assertThat(cache.size()).isEqualTo(held); // cleared values were dropped as they were found
    }
}
