package iommu.console;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.osgi.dto.DTO;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.TypeAdapter;
import com.google.gson.TypeAdapterFactory;
import com.google.gson.reflect.TypeToken;
import com.google.gson.stream.JsonReader;

import iommu.api.dto.Address;

/**
 * The one JSON writer of the console. A DTO (an {@link DTO} subclass, of the
 * API or of {@code iommu.console.dto}) is written as its public fields, in
 * declaration order, under their own names ("field names are the JSON field
 * names", {@code iommu.api.dto}), with two rules:
 * <ul>
 * <li>an address (a field marked {@link Address}) is a
 * {@code "0x..."} string;</li>
 * <li>a missing (null) array or collection is an empty one; other nulls are
 * {@code null} (an unattached device has {@code "guest": null}).</li>
 * </ul>
 * The text is UTF-8 wherever it goes as bytes ({@link #utf8}), whatever the
 * default charset.
 */
final class JsonWriter {

    private static final Gson GSON = new GsonBuilder()
            .serializeNulls()
            .disableHtmlEscaping()
            .setPrettyPrinting()
            .registerTypeAdapterFactory(new DtoFields())
            .create();

    private JsonWriter() {
    }

    /** Any value as JSON text: DTOs by their fields, maps in their own order. */
    static String write(Object value) {
        return GSON.toJson(value);
    }

    /** The JSON text as UTF-8 bytes. */
    static byte[] utf8(Object value) {
        return write(value).getBytes(StandardCharsets.UTF_8);
    }

    static boolean isAddress(Field f) {
        return f.isAnnotationPresent(Address.class);
    }

    static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }

    /** The public instance fields of a DTO class, superclass fields first, each in declaration order. */
    static List<Field> fields(Class<?> type) {
        List<Class<?>> chain = new ArrayList<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            chain.add(0, c);
        }
        List<Field> out = new ArrayList<>();
        for (Class<?> c : chain) {
            for (Field f : c.getDeclaredFields()) {
                int m = f.getModifiers();
                if (Modifier.isPublic(m) && !Modifier.isStatic(m) && !Modifier.isTransient(m)) {
                    out.add(f);
                }
            }
        }
        return out;
    }

    /** Writes every DTO from its fields. */
    private static final class DtoFields implements TypeAdapterFactory {
        @Override
        public <T> TypeAdapter<T> create(Gson gson, TypeToken<T> type) {
            if (!DTO.class.isAssignableFrom(type.getRawType())) {
                return null;
            }
            List<Field> fields = fields(type.getRawType());
            return new TypeAdapter<T>() {
                @Override
                public void write(com.google.gson.stream.JsonWriter out, T value) throws IOException {
                    if (value == null) {
                        out.nullValue();
                        return;
                    }
                    out.beginObject();
                    for (Field f : fields) {
                        out.name(f.getName());
                        writeField(gson, out, f, get(f, value));
                    }
                    out.endObject();
                }

                @Override
                public T read(JsonReader in) {
                    throw new UnsupportedOperationException("the console writes JSON, it does not read it");
                }
            };
        }

        private static Object get(Field f, Object dto) {
            try {
                return f.get(dto);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot read " + f, e);
            }
        }

        @SuppressWarnings("unchecked")
        private static void writeField(Gson gson, com.google.gson.stream.JsonWriter out, Field f, Object v) throws IOException {
            Class<?> t = f.getType();
            if (v == null) {
                if (t.isArray() || Collection.class.isAssignableFrom(t)) {
                    out.beginArray().endArray();
                } else {
                    out.nullValue();
                }
            } else if (isAddress(f)) {
                out.value(hex(((Number) v).longValue()));
            } else {
                ((TypeAdapter<Object>) gson.getAdapter(TypeToken.get(f.getGenericType()))).write(out, v);
            }
        }
    }
}
