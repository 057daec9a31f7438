/*
 * IVRS revision 1: one IOMMU (00:00.2, MMIO 0xfeb80000) described by a type 10h
 * IVHD with every 4- and 8-byte device entry kind, and IVMD blocks 20h, 21h, 22h.
 * Written for this project; compile with ./regenerate.sh (iasl -tc style data table).
 * Lengths and the checksum are computed by the compiler.
 */
[0004]                          Signature : "IVRS"    [I/O Virtualization Reporting Structure]
[0004]                       Table Length : 00000000
[0001]                           Revision : 01
[0001]                           Checksum : 00
[0006]                             Oem ID : "IOMMU "
[0008]                       Oem Table ID : "AMDVI10H"
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "INTL"
[0004]              Asl Compiler Revision : 20200925

/* IVinfo: EFRSup 0, VAsize 64 (21:15), PAsize 48 (14:8), GVAsize 48 (7:5 = 2) */
[0004]                Virtualization Info : 00203040
[0008]                           Reserved : 0000000000000000

/* IVHD 10h: flags 0xB0 = IotlbSup, Coherent, PPRSup; feature reporting: HATS 2, IASup, GASup */
[0001]                      Subtable Type : 10 [Hardware Definition Block]
[0001]                              Flags : B0
[0002]                             Length : 0000
[0002]                           DeviceId : 0002
[0002]                  Capability Offset : 0040
[0008]                       Base Address : 00000000FEB80000
[0002]                  PCI Segment Group : 0000
[0002]                Virtualization Info : 0000
[0004]                  Feature Reporting : 80000060

/* select 00:00.0 */
[0001]                         Entry Type : 02
[0002]                          Device ID : 0000
[0001]                       Data Setting : 00

/* range 00:01.0 .. 00:01.7 */
[0001]                         Entry Type : 03
[0002]                          Device ID : 0008
[0001]                       Data Setting : 00

[0001]                         Entry Type : 04
[0002]                          Device ID : 000F
[0001]                       Data Setting : 00

/* padding */
[0001]                         Entry Type : 00
[0002]                          Device ID : 0000
[0001]                       Data Setting : 00

/* select 00:14.0 (SMBus) with INITPass, EIntPass, NMIPass, Lint0Pass, Lint1Pass */
[0001]                         Entry Type : 02
[0002]                          Device ID : 00A0
[0001]                       Data Setting : D7

/* select 00:14.4, a PCIe-to-PCI bridge */
[0001]                         Entry Type : 02
[0002]                          Device ID : 00A4
[0001]                       Data Setting : 00

/* alias select: 05:00.0 (conventional PCI behind the bridge) is seen as 00:14.4 */
[0001]                         Entry Type : 42
[0002]                          Device ID : 0500
[0001]                       Data Setting : 00
[0001]                           Reserved : 00
[0002]              Source Used Device ID : 00A4
[0001]                           Reserved : 00

/* alias range: 06:00.0 .. 06:00.3 seen as 06:00.0's bridge 00:14.5 */
[0001]                         Entry Type : 43
[0002]                          Device ID : 0600
[0001]                       Data Setting : 00
[0001]                           Reserved : 00
[0002]              Source Used Device ID : 00A5
[0001]                           Reserved : 00

[0001]                         Entry Type : 04
[0002]                          Device ID : 0603
[0001]                       Data Setting : 00

/* extended select 07:00.0, ATS disabled (bit 31) */
[0001]                         Entry Type : 46
[0002]                          Device ID : 0700
[0001]                       Data Setting : 00
[0004]                      Extended Data : 80000000

/* extended range 08:00.0 .. 08:00.7 */
[0001]                         Entry Type : 47
[0002]                          Device ID : 0800
[0001]                       Data Setting : 00
[0004]                      Extended Data : 00000000

[0001]                         Entry Type : 04
[0002]                          Device ID : 0807
[0001]                       Data Setting : 00

/* special: IOAPIC id 0x21 and HPET 0, both behind 00:14.0 */
[0001]                         Entry Type : 48
[0002]                          Device ID : 0000
[0001]                       Data Setting : D7
[0001]                             Handle : 21
[0002]              Source Used Device ID : 00A0
[0001]                            Variety : 01

[0001]                         Entry Type : 48
[0002]                          Device ID : 0000
[0001]                       Data Setting : 00
[0001]                             Handle : 00
[0002]              Source Used Device ID : 00A0
[0001]                            Variety : 02

/* IVMD 20h: all devices, unity-mapped read/write */
[0001]                      Subtable Type : 20 [Memory Definition Block]
[0001]                              Flags : 07
[0002]                             Length : 0000
[0002]                           DeviceId : 0000
[0002]                     Auxiliary Data : 0000
[0008]                           Reserved : 0000000000000000
[0008]                      Start Address : 00000000FEE00000
[0008]                      Memory Length : 0000000000100000

/* IVMD 21h: 07:00.0 has an exclusion range */
[0001]                      Subtable Type : 21 [Memory Definition Block]
[0001]                              Flags : 08
[0002]                             Length : 0000
[0002]                           DeviceId : 0700
[0002]                     Auxiliary Data : 0000
[0008]                           Reserved : 0000000000000000
[0008]                      Start Address : 00000000DE000000
[0008]                      Memory Length : 0000000000200000

/* IVMD 22h: 08:00.0 .. 08:00.3 unity-mapped read-only */
[0001]                      Subtable Type : 22 [Memory Definition Block]
[0001]                              Flags : 03
[0002]                             Length : 0000
[0002]                           DeviceId : 0800
[0002]                     Auxiliary Data : 0803
[0008]                           Reserved : 0000000000000000
[0008]                      Start Address : 00000000DF000000
[0008]                      Memory Length : 0000000000010000
