/*
 * IVRS revision 2 with type 40h IVHDs, whose device entries may name ACPI
 * devices by HID (type F0h, variable length):
 * ivhd0 = 00:00.2 at 0xfd300000, described by 10h and 40h blocks: bus 00 functions,
 *         bus 02, and two ACPI HID devices (a UART with a string UID, an I2C
 *         controller with an integer UID).
 * ivhd1 = 0001:00:00.2 at 0xe0000000 on segment 1, 40h only, with an ALL entry:
 *         it translates every device of segment 1.
 * The iasl of Debian 12 (20200925) knows neither type 40h nor entry F0h: the
 * regenerate script compiles this file with the project's own compiler
 * (src/test/java/iommu/amdvi/IvrsDsl.java), which reproduces iasl's output byte
 * for byte on the other files (IvrsDslTest checks it).
 */
[0004]                          Signature : "IVRS"    [I/O Virtualization Reporting Structure]
[0004]                       Table Length : 00000000
[0001]                           Revision : 02
[0001]                           Checksum : 00
[0006]                             Oem ID : "IOMMU "
[0008]                       Oem Table ID : "AMDVI40H"
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "INTL"
[0004]              Asl Compiler Revision : 20200925

/* IVinfo: EFRSup, VAsize 64, PAsize 48, GVAsize 48 */
[0004]                Virtualization Info : 00203041
[0008]                           Reserved : 0000000000000000

/* IOMMU 00:00.2, IVHD type 10h */
[0001]                      Subtable Type : 10 [Hardware Definition Block]
[0001]                              Flags : B0
[0002]                             Length : 0000
[0002]                           DeviceId : 0002
[0002]                  Capability Offset : 0040
[0008]                       Base Address : 00000000FD300000
[0002]                  PCI Segment Group : 0000
[0002]                Virtualization Info : 0000
[0004]                  Feature Reporting : 80000060

[0001]                         Entry Type : 03
[0002]                          Device ID : 0000
[0001]                       Data Setting : 00

[0001]                         Entry Type : 04
[0002]                          Device ID : 00FF
[0001]                       Data Setting : 00

[0001]                         Entry Type : 03
[0002]                          Device ID : 0200
[0001]                       Data Setting : 00

[0001]                         Entry Type : 04
[0002]                          Device ID : 02FF
[0001]                       Data Setting : 00

/* IOMMU 00:00.2, IVHD type 40h */
[0001]                      Subtable Type : 40 [Hardware Definition Block]
[0001]                              Flags : B0
[0002]                             Length : 0000
[0002]                           DeviceId : 0002
[0002]                  Capability Offset : 0040
[0008]                       Base Address : 00000000FD300000
[0002]                  PCI Segment Group : 0000
[0002]                Virtualization Info : 0000
[0004]                         Attributes : 00000000
[0008]                          EFR Image : 0000000F003D4BDF
[0008]                           Reserved : 0000000000000000

[0001]                         Entry Type : 03
[0002]                          Device ID : 0000
[0001]                       Data Setting : 00

[0001]                         Entry Type : 04
[0002]                          Device ID : 00FF
[0001]                       Data Setting : 00

[0001]                         Entry Type : 03
[0002]                          Device ID : 0200
[0001]                       Data Setting : 00

[0001]                         Entry Type : 04
[0002]                          Device ID : 02FF
[0001]                       Data Setting : 00

/* ACPI HID: AMDI0020 (UART) at 00:14.5, UID "\_SB.FUR0" */
[0001]                         Entry Type : F0
[0002]                          Device ID : 00A5
[0001]                       Data Setting : 40
[0008]                           ACPI HID : "AMDI0020"
[0008]                           ACPI CID : 0000000000000000
[0001]                         UID Format : 02
[0001]                         UID Length : 09
[0009]                                UID : "\_SB.FUR0"

/* ACPI HID: AMDI0010 (I2C) at 00:14.6, integer UID 3 */
[0001]                         Entry Type : F0
[0002]                          Device ID : 00A6
[0001]                       Data Setting : 00
[0008]                           ACPI HID : "AMDI0010"
[0008]                           ACPI CID : "PNP0C50"
[0001]                         UID Format : 01
[0001]                         UID Length : 01
[0001]                                UID : 03

/* IOMMU 0001:00:00.2, IVHD type 40h, ALL */
[0001]                      Subtable Type : 40 [Hardware Definition Block]
[0001]                              Flags : B0
[0002]                             Length : 0000
[0002]                           DeviceId : 0002
[0002]                  Capability Offset : 0040
[0008]                       Base Address : 00000000E0000000
[0002]                  PCI Segment Group : 0001
[0002]                Virtualization Info : 0000
[0004]                         Attributes : 00000000
[0008]                          EFR Image : 0000000F003D4BDF
[0008]                           Reserved : 0000000000000000

[0001]                         Entry Type : 01
[0002]                          Device ID : 0000
[0001]                       Data Setting : 00

