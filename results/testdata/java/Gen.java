import org.HdrHistogram.*;
import java.io.*;
import java.nio.*;
import java.nio.file.*;
import java.util.*;
public class Gen {
  static Histogram decode(Path p) throws Exception {
    String enc = new String(Files.readAllBytes(p)).trim();
    return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(enc)), 0);
  }
  public static void main(String[] a) throws Exception {
    Path dir = Paths.get(a[0]);
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.b64")) { for (Path p : ds) files.add(p); }
    Collections.sort(files);
    for (Path p : files) {
      String name = p.getFileName().toString().replace(".b64", "");
      double scale = Double.parseDouble(name.substring(name.lastIndexOf(".s") + 2));
      Histogram h = decode(p);
      try (PrintStream ps = new PrintStream(new FileOutputStream(dir.resolve(name + ".hgrm").toFile()))) {
        h.outputPercentileDistribution(ps, 5, scale);
      }
    }
    // An interval log as Java's writer makes it: tagged, relative to a base time.
    long start = 1741964966535L;
    try (PrintStream ps = new PrintStream(new FileOutputStream(dir.resolve("java.hlog").toFile()))) {
      HistogramLogWriter w = new HistogramLogWriter(ps);
      w.outputComment("[Logged with HdrHistogram " + Histogram.class.getPackage().getImplementationVersion() + "]");
      w.outputLogFormatVersion();
      w.outputStartTime(start);
      w.setBaseTime(start);
      w.outputBaseTime(start);
      w.outputLegend();
      for (int i = 1; i <= 3; i++) {
        Histogram lat = decode(dir.resolve("latency" + i + ".s1000.b64"));
        lat.setStartTimeStamp(start + (i - 1) * 1000L);
        lat.setEndTimeStamp(start + i * 1000L);
        lat.setTag("isr_to_dpc");
        w.outputIntervalHistogram(lat);
        Histogram b = decode(dir.resolve("batch.s1.b64"));
        b.setStartTimeStamp(start + (i - 1) * 1000L);
        b.setEndTimeStamp(start + i * 1000L);
        b.setTag("dpc_batch_size");
        w.outputIntervalHistogram(b);
      }
      Histogram untagged = decode(dir.resolve("single.s1000.b64"));
      untagged.setStartTimeStamp(start + 3000L);
      untagged.setEndTimeStamp(start + 3500L);
      w.outputIntervalHistogram(untagged);
    }
  }
}
