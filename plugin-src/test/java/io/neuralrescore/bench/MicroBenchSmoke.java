/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Runs every {@code *Benchmark} class of this package once, without JMH's harness: each {@link Param} at its first
 * value, {@link Setup}, each {@link Benchmark} method once, {@link TearDown}. The test command runs it (through
 * {@code harness/bench.py --smoke}) so micro benchmarks cannot rot; a new benchmark class is covered by being here.
 */
public final class MicroBenchSmoke {
    private MicroBenchSmoke() {}

    public static void main(String[] args) throws Exception {
        List<Class<?>> classes = benchmarkClasses();
        if (classes.isEmpty()) {
            throw new IllegalStateException("no *Benchmark classes found next to " + MicroBenchSmoke.class);
        }
        Blackhole bh = new Blackhole("Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
        int methods = 0;
        for (Class<?> c : classes) {
            Object state = c.getDeclaredConstructor().newInstance();
            for (Field f : c.getFields()) {
                Param p = f.getAnnotation(Param.class);
                if (p != null) {
                    set(state, f, p.value()[0]);
                }
            }
            invokeAll(state, Setup.class, bh);
            for (Method m : c.getMethods()) {
                if (m.isAnnotationPresent(Benchmark.class)) {
                    long t0 = System.nanoTime();
                    Object result = m.getParameterCount() == 1 ? m.invoke(state, bh) : m.invoke(state);
                    bh.consume(result);
                    System.out.printf("  %s.%s: ok (%.2f ms, once, unwarmed)%n", c.getSimpleName(), m.getName(), (System.nanoTime() - t0) / 1e6);
                    methods++;
                }
            }
            invokeAll(state, TearDown.class, bh);
        }
        System.out.println("micro benchmark smoke: " + methods + " methods of " + classes.size() + " classes ran");
        bh.evaporate("Yes, I am Stephen Hawking, and know a thing or two about black holes.");
    }

    private static List<Class<?>> benchmarkClasses() throws URISyntaxException, java.io.IOException, ClassNotFoundException {
        Path dir = Path.of(MicroBenchSmoke.class.getResource("MicroBenchSmoke.class").toURI()).getParent();
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.sorted().toList()) {
                String name = p.getFileName().toString();
                if (name.endsWith("Benchmark.class")) {
                    out.add(Class.forName(MicroBenchSmoke.class.getPackageName() + "." + name.substring(0, name.length() - 6)));
                }
            }
        }
        return out;
    }

    private static void set(Object state, Field f, String value) throws IllegalAccessException {
        Class<?> t = f.getType();
        if (t == int.class) {
            f.setInt(state, Integer.parseInt(value));
        } else if (t == long.class) {
            f.setLong(state, Long.parseLong(value));
        } else if (t == boolean.class) {
            f.setBoolean(state, Boolean.parseBoolean(value));
        } else if (t == String.class) {
            f.set(state, value);
        } else {
            throw new IllegalArgumentException("unsupported @Param type " + t + " of " + f);
        }
    }

    private static void invokeAll(Object state, Class<? extends java.lang.annotation.Annotation> kind, Blackhole bh) throws Exception {
        for (Method m : state.getClass().getMethods()) {
            if (m.isAnnotationPresent(kind)) {
                if (m.getParameterCount() == 0) {
                    m.invoke(state);
                } else {
                    m.invoke(state, bh);
                }
            }
        }
    }
}
